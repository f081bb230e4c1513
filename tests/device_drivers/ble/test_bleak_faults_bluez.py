"""Recovery paths of the bleak transport, driven through BlueZ's D-Bus API (BlueZoo).

Errors BlueZ raises on real hardware are injected at our own seam (``Faults``) right
where bleak would raise them, so the recovery code that runs is the production code —
including the real ``Adapter1.RemoveDevice`` call and rediscovery through the mock.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from bleak.exc import BleakDBusError

from device_drivers.ble.bleak_transport import BleakTransport
from device_drivers.ble.bp import collect_bp
from device_drivers.ble.capture import Who
from device_drivers.ble.cursors import MemoryCursorStore
from device_drivers.ble.source import BleDeviceSource
from device_drivers.ble.transport import ConnectFailed, Matcher
from device_drivers.codecs.glucose import Meal
from device_drivers.codecs.numbers import MderSpecial
from firmware_sim.bluez.mock import BlueZooMock
from firmware_sim.bluez.peripheral import BluezDevice
from firmware_sim.devices.bp_gatt import BP_SERVICE, GattBpCuff, bp_record
from firmware_sim.devices.glucose_gatt import GlucoseMeter
from vitals.readings import DeviceRef, Glucose, MealContext, RangeFlag, ReadingKind

pytestmark = [pytest.mark.bluez, pytest.mark.timeout(120)]

T0 = dt.datetime(2026, 5, 1, 7)
IN_PROGRESS = BleakDBusError("org.bluez.Error.InProgress", ["Operation already in progress"])


async def test_in_progress_removes_the_device_rediscovers_and_connects(bluez: BlueZooMock) -> None:
    cuff = GattBpCuff([bp_record(121, 79, at=T0)])
    async with BluezDevice(cuff, adapter="hci1"), BleakTransport(adapter="hci0") as transport:
        async with asyncio.timeout(30):
            adv = await anext(transport.advertisements(Matcher.of(services=[BP_SERVICE])))
        transport.faults.fail_next_connects(adv.address, IN_PROGRESS)
        async with transport.connect(adv) as conn:
            burst = await collect_bp(conn, quiet_timeout=1.0)
    assert [r.measurement.systolic.value for r in burst.records] == [121]
    assert transport.faults.connect_attempts[adv.address] == 2


async def test_gives_up_with_a_typed_error(bluez: BlueZooMock) -> None:
    cuff = GattBpCuff([bp_record(122, 80, at=T0)])
    async with BluezDevice(cuff, adapter="hci2"), BleakTransport(
        adapter="hci0", connect_attempts=2
    ) as transport:
        async with asyncio.timeout(30):
            adv = await anext(transport.advertisements(Matcher.of(addresses=[bluez.addresses[2]])))
        abort = BleakDBusError("org.bluez.Error.Failed", ["le-connection-abort-by-local"])
        transport.faults.fail_next_connects(adv.address, abort, abort)
        with pytest.raises(ConnectFailed) as info:
            async with transport.connect(adv):
                pass
    assert "le-connection-abort-by-local" in info.value.reason


async def test_a_dropped_link_ends_the_session_at_once(bluez: BlueZooMock) -> None:
    # The mock cannot deliver a peripheral-side disconnect; drop it at our seam instead.
    cuff = GattBpCuff([bp_record(123, 81, at=T0)], disconnect_after_burst=False)
    async with BluezDevice(cuff, adapter="hci3"), BleakTransport(adapter="hci0") as transport:
        async with asyncio.timeout(30):
            adv = await anext(transport.advertisements(Matcher.of(addresses=[bluez.addresses[3]])))
        async with transport.connect(adv) as conn:

            async def drop_soon() -> None:
                await asyncio.sleep(0.5)
                await transport.faults.drop(adv.address)

            async with asyncio.TaskGroup() as tg:
                tg.create_task(drop_soon())
                # Under the 30-s quiet_timeout: only the drop can end it in time.
                async with asyncio.timeout(20):
                    burst = await collect_bp(conn, quiet_timeout=30)
            assert not conn.is_connected
    assert burst.disconnected_by_device and len(burst.records) == 1


async def test_gateway_device_task_over_bleak(bluez: BlueZooMock) -> None:
    """BleDeviceSource (what the gateway runs per device) end to end on bleak."""
    meter = GlucoseMeter()
    meter.add(101, at=T0, meal=Meal.FASTING)
    meter.add(special=MderSpecial.POSITIVE_INFINITY, at=T0 + dt.timedelta(hours=1))
    who = Who("p-0200", DeviceRef(make="HomeRPM", model="SimMeter", address=meter.address), True)
    got = []
    async with BluezDevice(meter, adapter="hci2"), BleakTransport(adapter="hci4") as transport:
        source = BleDeviceSource(transport, address=bluez.addresses[2], kind=ReadingKind.GLUCOSE,
                                 who=who, cursors=MemoryCursorStore(), cooldown_s=0)
        items = source.readings()
        async with asyncio.timeout(45):
            while len(got) < 2:
                got.append(await anext(items))
        await items.aclose()
    assert [type(g) for g in got] == [Glucose, Glucose]
    assert got[0].meal is MealContext.FASTING and got[0].seq == 1
    assert got[1].range_flag is RangeFlag.HIGH and got[1].device.serial == "SIM-0001"
