"""DeviceRunner and InProcessDevice: cancellation always ends them."""

from __future__ import annotations

import asyncio

from device_drivers.uuids import HEART_RATE_MEASUREMENT
from firmware_sim.devices.gatt_model import Notify
from firmware_sim.devices.gatt_runner import DeviceRunner
from firmware_sim.devices.hr_gatt import HeartRateStrap
from firmware_sim.devices.inprocess import InProcessDevice


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes]] = []

    async def notify(self, char_uuid: str, data: bytes) -> None:
        self.sent.append((char_uuid, data))

    async def disconnect(self) -> None:
        pass

    async def stop_advertising(self) -> None:
        pass


async def test_a_cancel_landing_as_a_request_arrives_ends_the_runner() -> None:
    """While streaming the runner waits for a request with a timeout; a request and the
    cancellation arrive together. (Python 3.11's wait_for swallowed this cancellation
    and the runner outlived its TaskGroup.)"""
    strap = HeartRateStrap()
    strap.subscribe(HEART_RATE_MEASUREMENT, True)  # streams: one tick a second
    sink = Recorder()
    runner = DeviceRunner(strap, sink, time_scale=1.0)
    task = asyncio.create_task(runner.run())
    await asyncio.sleep(0.01)  # waiting for a request or the next tick
    runner.submit([Notify(HEART_RATE_MEASUREMENT, b"\x00\x40")])
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=30)
    assert done and task.cancelled()


async def test_leaving_the_device_cancels_every_runner() -> None:
    """A runner whose link was never torn down must not keep the device's exit waiting."""
    strap = HeartRateStrap()

    async with asyncio.timeout(30):  # TimeoutError here: the exit waited on a runner
        async with InProcessDevice(strap) as dev:
            await dev.connected(Recorder())
            await dev.connected(Recorder())  # the first runner is still there
    assert not dev._tasks
