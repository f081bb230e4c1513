"""A device model behind :class:`device_drivers.ble.memory.MemoryTransport`.

``async with InProcessDevice(model) as dev: transport.add(dev)`` — the device owns a
TaskGroup for its per-connection runner, so nothing outlives the ``async with``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from types import TracebackType

from device_drivers.ble.memory import AttRejection, PeripheralLink
from firmware_sim.devices.gatt_model import AttError, DeviceModel
from firmware_sim.devices.gatt_runner import DeviceRunner


class _Sink:
    def __init__(self, link: PeripheralLink) -> None:
        self._link = link

    async def notify(self, char_uuid: str, data: bytes) -> None:
        await self._link.notify(char_uuid, data)

    async def disconnect(self) -> None:
        await self._link.disconnect()

    async def stop_advertising(self) -> None:
        pass  # the model's ``advertising`` flag is what the memory scanner reads


class InProcessDevice:
    def __init__(self, model: DeviceModel, *, time_scale: float = 0.0) -> None:
        self.model = model
        self._scale = time_scale
        self._tg: asyncio.TaskGroup | None = None
        self._runner: DeviceRunner | None = None
        self._task: asyncio.Task[None] | None = None  # the current connection's runner
        self._tasks: set[asyncio.Task[None]] = set()  # every runner not yet finished

    async def __aenter__(self) -> InProcessDevice:
        self._tg = asyncio.TaskGroup()
        await self._tg.__aenter__()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        # Cancel every runner, not only the current one: the TaskGroup would otherwise
        # wait on a runner whose connection was never torn down.
        for task in list(self._tasks):
            task.cancel()
        assert self._tg is not None
        await self._tg.__aexit__(et, e, tb)

    # Peripheral ----------------------------------------------------------------------
    @property
    def address(self) -> str:
        return self.model.address

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def advertising(self) -> bool:
        return self.model.advertising

    def advertised_services(self) -> tuple[str, ...]:
        return self.model.primary_services()

    def characteristics(self) -> Mapping[str, frozenset[str]]:
        return {c.uuid: c.flags for c in self.model.chars()}

    async def connected(self, link: PeripheralLink) -> None:
        if self._tg is None:
            raise RuntimeError("use InProcessDevice as an async context manager")
        self._runner = DeviceRunner(self.model, _Sink(link), time_scale=self._scale)
        self._task = self._tg.create_task(self._runner.run())
        self._tasks.add(self._task)
        self._task.add_done_callback(self._tasks.discard)
        self._runner.submit(self.model.on_connect())

    async def disconnected(self) -> None:
        task, self._task = self._task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
        self.model.on_disconnect()

    def _runner_or_fail(self) -> DeviceRunner:
        if self._runner is None:
            raise AttRejection(0x0E, "not connected")
        return self._runner

    async def read(self, char_uuid: str) -> bytes:
        try:
            return self.model.read(char_uuid)
        except AttError as exc:
            raise AttRejection(exc.code, exc.reason) from exc

    async def write(self, char_uuid: str, data: bytes, *, response: bool) -> None:
        runner = self._runner_or_fail()
        try:
            runner.submit(self.model.write(char_uuid, data))
        except AttError as exc:
            raise AttRejection(exc.code, exc.reason) from exc

    async def subscribe(self, char_uuid: str, enabled: bool) -> None:
        self._runner_or_fail().submit(self.model.subscribe(char_uuid, enabled))
