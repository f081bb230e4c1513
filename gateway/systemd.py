"""systemd integration without a dependency: ``sd_notify`` over ``$NOTIFY_SOCKET``.

The unit (deploy/systemd/homerpm-gateway.service) is ``Type=notify`` with
``WatchdogSec``: we say READY=1 once the outbox is open and the tasks run, ping
WATCHDOG=1 from the event loop (a hung loop stops pinging and gets restarted), and say
STOPPING=1 on shutdown. Outside systemd every call is a no-op.
"""

from __future__ import annotations

import asyncio
import os
import socket


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


async def watchdog() -> None:
    """Ping the systemd watchdog from the event loop for as long as it runs."""
    interval = watchdog_interval_s()
    if interval is None:
        return
    while True:
        notify("WATCHDOG=1")
        await asyncio.sleep(interval)
