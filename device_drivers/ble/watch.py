"""One device task: wait for the device to advertise, connect, run a session, repeat.

The gateway runs one :func:`sessions` loop per assigned device (inside its TaskGroup)::

    async for burst in sessions(transport, address, lambda c: collect_bp(c, store=cursors)):
        await pipeline.capture(burst.records)   # durable (outbox) ...
        await burst.commit()                    # ... THEN advance the cursor

Every connection is disposable (failure mode 10): errors are logged, backed off and
retried; nothing but cancellation ends the loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import TypeVar

from device_drivers.ble.transport import (
    Advertisement,
    BleConnection,
    BleError,
    BleTransport,
    Matcher,
)

log = logging.getLogger(__name__)

T = TypeVar("T")


async def _next_advertisement(transport: BleTransport, matcher: Matcher) -> Advertisement:
    scan = transport.advertisements(matcher)
    try:
        return await anext(scan)
    finally:
        close = getattr(scan, "aclose", None)  # unsubscribe from the shared scanner now
        if close is not None:
            await close()


async def sessions(
    transport: BleTransport,
    address: str,
    run: Callable[[BleConnection], Awaitable[T]],
    *,
    required: Iterable[str] = (),
    cooldown_s: float = 30.0,
    retry_s: float = 5.0,
    max_retry_s: float = 300.0,
) -> AsyncIterator[T]:
    """Yield the result of ``run`` for every successful connection to ``address``.

    ``cooldown_s`` after a session (a cuff that just sent its burst is not worth
    reconnecting to at once); exponential backoff from ``retry_s`` after failures.
    """
    matcher = Matcher.of(addresses=[address])
    wanted = tuple(required)
    backoff = retry_s
    while True:
        adv = await _next_advertisement(transport, matcher)
        try:
            async with transport.connect(adv, required=wanted) as conn:
                result = await run(conn)
        except BleError as exc:
            log.warning("%s: session failed (%s); retrying in %.0f s", address, exc, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, max_retry_s)
            continue
        backoff = retry_s
        yield result
        await asyncio.sleep(cooldown_s)
