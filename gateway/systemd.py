"""systemd integration without a dependency: ``sd_notify`` over ``$NOTIFY_SOCKET``.

The unit (deploy/systemd/homerpm-gateway.service) is ``Type=notify`` with
``WatchdogSec``: we say READY=1 once the outbox is open and the tasks run, ping
WATCHDOG=1 from the event loop (a hung loop stops pinging and gets restarted), and say
STOPPING=1 on shutdown. Outside systemd every call is a no-op.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


def notify(state: str) -> bool:
    """Send one state line to systemd; False when not running under systemd."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):  # abstract namespace socket
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.connect(address)
        sock.sendall(state.encode())
    return True


def watchdog_interval_s() -> float | None:
    """Half the configured watchdog timeout, or None when the watchdog is off."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or (pid and int(pid) != os.getpid()):
        return None
    return int(usec) / 2_000_000


async def watchdog(
    probe: Callable[[], Awaitable[object]] | None = None, interval_s: float | None = None
) -> None:
    """Ping the systemd watchdog while the gateway is alive.

    Pinged from the event loop, so a hung loop stops the pings; and only after ``probe``
    (a round trip through the outbox thread) answered within the interval, so a wedged
    database thread stops them too. systemd then kills and restarts us; the outbox makes
    that lossless.
    """
    interval = interval_s if interval_s is not None else watchdog_interval_s()
    if interval is None:
        return
    while True:
        try:
            if probe is not None:
                await asyncio.wait_for(probe(), timeout=interval)
        except TimeoutError:
            log.error("liveness probe did not answer within %.0f s: not pinging the watchdog",
                      interval)
        else:
            notify("WATCHDOG=1")
        await asyncio.sleep(interval)
