"""Executes a device model's actions against one connected central.

Actions run strictly in order (an indication burst, then the RACP response, then a
disconnect). While the model streams, :meth:`DeviceRunner.run` also calls
``model.tick()`` on an absolute schedule (t0 + k x period, so pacing does not drift);
``time_scale`` = 0 ticks as fast as the loop allows (in-process tests), 1 = real time.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from firmware_sim.devices.gatt_model import Action, DeviceModel, Disconnect, Notify, StopAdvertising


class LinkSink(Protocol):
    async def notify(self, char_uuid: str, data: bytes) -> None: ...

    async def disconnect(self) -> None: ...

    async def stop_advertising(self) -> None: ...


class DeviceRunner:
    def __init__(self, model: DeviceModel, sink: LinkSink, *, time_scale: float = 1.0) -> None:
        self.model = model
        self._sink = sink
        self._scale = time_scale
        self._queue: asyncio.Queue[list[Action]] = asyncio.Queue()
        self.sent = 0

    def submit(self, actions: list[Action]) -> None:
        if actions:
            self._queue.put_nowait(actions)

    async def _execute(self, actions: list[Action]) -> bool:
        """Run actions in order; False once the device has disconnected."""
        for action in actions:
            if isinstance(action, Notify):
                await self._sink.notify(action.char, action.data)
                self.sent += 1
            elif isinstance(action, StopAdvertising):
                self.model.advertising = False
                await self._sink.stop_advertising()
            elif isinstance(action, Disconnect):
                await self._sink.disconnect()
                return False
        return True

    async def _next_request(self, wait_s: float | None) -> list[Action] | None:
        """The central's next request, or None when ``wait_s`` passes first."""
        try:
            # Central requests first: with a zero wait a fast stream would starve them.
            return self._queue.get_nowait()
        except asyncio.QueueEmpty:
            pass
        try:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a
            # cancellation that lands as get() completes (CPython gh-86296), and the
            # runner would then outlive its TaskGroup's exit.
            async with asyncio.timeout(wait_s):
                return await self._queue.get()
        except TimeoutError:
            return None

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        next_tick: float | None = None
        while True:
            period = self.model.stream_period
            timeout: float | None = None
            if period is None:
                next_tick = None
            else:
                if next_tick is None:
                    next_tick = loop.time() + period * self._scale
                timeout = max(0.0, next_tick - loop.time())
            actions = await self._next_request(timeout)
            if actions is None:
                actions = self.model.tick()
                if next_tick is not None and period is not None:
                    next_tick += period * self._scale
                    if self._scale == 0:
                        await asyncio.sleep(0)
            if not await self._execute(actions):
                return
