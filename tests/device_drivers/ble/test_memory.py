"""MemoryTransport: cancellation of a device task is never lost."""

from __future__ import annotations

import asyncio
import datetime as dt

from device_drivers.ble.memory import MemoryTransport
from firmware_sim.devices.bp_gatt import GattBpCuff, bp_record
from firmware_sim.devices.glucose_gatt import GlucoseMeter
from firmware_sim.devices.inprocess import InProcessDevice

T0 = dt.datetime(2026, 4, 1, 9)


async def test_a_cancel_landing_as_the_slot_is_granted_still_cancels() -> None:
    """The device task waits for the only slot; the slot is granted and the task is
    cancelled in the same loop iteration. (Python 3.11's wait_for swallowed exactly this
    cancellation: the session then ran on and the task could not be stopped.)"""
    cuff, meter = GattBpCuff([bp_record(120, 80, at=T0)]), GlucoseMeter()
    async with (
        InProcessDevice(cuff) as d1,
        InProcessDevice(meter) as d2,
        MemoryTransport([d1, d2], slots=1) as transport,
    ):
        ads = {a.address: a for a in [transport._advertisement(d1),
                                      transport._advertisement(d2)]}
        entered = asyncio.Event()

        async def device_task() -> None:
            async with transport.connect(ads[meter.address]):
                entered.set()

        async with transport.connect(ads[cuff.address]):  # holds the only slot
            task = asyncio.create_task(device_task())
            await asyncio.sleep(0.01)  # the task now waits for the slot
        # Leaving released the slot (granted to the task); no await before the cancel.
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=30)
        assert done and task.cancelled() and not entered.is_set()
        async with transport.connect(ads[meter.address]) as conn:  # the slot came back
            assert conn.is_connected
