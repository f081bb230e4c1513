"""Waiting for the next notification with a timeout, without losing any.

Cancelling ``anext()`` of an async generator closes the generator, so a plain
``wait_for(anext(it), t)`` would end the stream at the first quiet period. The inbox
keeps one pending ``anext`` task across calls instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import TracebackType

from device_drivers.ble.transport import BleConnection, Notification


class Inbox:
    def __init__(self, conn: BleConnection) -> None:
        self._it: AsyncIterator[Notification] = conn.notifications()
        self._pending: asyncio.Task[Notification] | None = None
        self.closed = False

    async def __aenter__(self) -> Inbox:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._pending is not None:
            self._pending.cancel()
            await asyncio.gather(self._pending, return_exceptions=True)
            self._pending = None

    async def next(self, wait_s: float | None) -> Notification | None:
        """The next notification; None after ``wait_s`` s of quiet or once the link is
        down (then ``closed`` is True)."""
        if self.closed:
            return None
        if self._pending is None:
            self._pending = asyncio.ensure_future(anext(self._it))
        done, _ = await asyncio.wait({self._pending}, timeout=wait_s)
        if not done:
            return None
        task, self._pending = self._pending, None
        try:
            return task.result()
        except StopAsyncIteration:
            self.closed = True
            return None
