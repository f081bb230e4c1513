"""BleDeviceSource: the gateway's device task over a paired device (in-process)."""

from __future__ import annotations

import asyncio
import datetime as dt

from device_drivers.ble.capture import Who
from device_drivers.ble.cursors import MemoryCursorStore
from device_drivers.ble.memory import MemoryTransport
from device_drivers.ble.source import BleDeviceSource
from device_drivers.codecs.glucose import SensorStatus
from firmware_sim.devices.bp_gatt import GattBpCuff, bp_record
from firmware_sim.devices.ecg_gatt import PolarStrap
from firmware_sim.devices.gatt_model import DeviceModel
from firmware_sim.devices.glucose_gatt import GlucoseMeter
from firmware_sim.devices.hr_gatt import HeartRateStrap
from firmware_sim.devices.inprocess import InProcessDevice
from vitals.readings import (
    BloodPressure,
    DeviceRef,
    EcgStrip,
    Glucose,
    HeartRate,
    ReadingKind,
)
from vitals.wire import GatewayEvent

T0 = dt.datetime(2026, 9, 1, 8)


def who(model: DeviceModel, simulated: bool = True) -> Who:
    ref = DeviceRef(make="HomeRPM", model="Sim", address=model.address)
    return Who("p-0100", ref, simulated)


async def take(model: DeviceModel, kind: ReadingKind, n: int, cursors=None, *,
               settle: bool = False, configured_simulated: bool = True, **kw) -> list:
    """The first n items; with ``settle`` keep asking (as the pipeline does after storing
    each item) until nothing more comes, which lets the source commit."""
    cursors = cursors or MemoryCursorStore()
    got = []
    async with InProcessDevice(model) as dev, MemoryTransport([dev]) as transport:
        source = BleDeviceSource(transport, address=model.address, kind=kind,
                                 who=who(model, configured_simulated),
                                 cursors=cursors, cooldown_s=0, **kw)
        items = source.readings()
        try:
            # A generous budget: not a timing test, and a loaded CI machine is slow.
            async with asyncio.timeout(60):
                while len(got) < n:
                    got.append(await anext(items))
            if settle:
                try:
                    async with asyncio.timeout(0.5):  # quiet period, not a budget
                        extra = await anext(items)
                except TimeoutError:
                    pass
                else:
                    raise AssertionError(f"unexpected extra item {extra}")
        finally:
            await items.aclose()  # release the connection before the transport goes
    return got


async def test_bp_readings_then_commit_on_return() -> None:
    cursors = MemoryCursorStore()
    records = [bp_record(118, 77, at=T0), bp_record(125, 82, at=T0 + dt.timedelta(hours=2))]
    cuff = GattBpCuff(records, send_all=True)
    got = await take(cuff, ReadingKind.BLOOD_PRESSURE, 2, cursors)
    assert [type(x) for x in got] == [BloodPressure, BloodPressure]
    assert got[0].device.serial == "SIM-0001" and got[0].simulated
    # The consumer stopped right after the last reading: not committed, so a new task
    # delivers the same records again rather than losing them.
    assert cursors.load(cuff.address).seen == ()
    cuff.advertising = True
    again = await take(cuff, ReadingKind.BLOOD_PRESSURE, 2, cursors)
    assert [r.systolic for r in again] == [118, 125]


async def test_glucose_reset_and_rejection_become_events() -> None:
    meter = GlucoseMeter()
    meter.add(100, at=T0)
    cursors = MemoryCursorStore()
    first = await take(meter, ReadingKind.GLUCOSE, 1, cursors)
    assert isinstance(first[0], Glucose)
    # commit happens when the consumer asks for more; emulate with a second pass
    meter.add(110, at=T0 + dt.timedelta(hours=1))
    second = await take(meter, ReadingKind.GLUCOSE, 2, cursors, settle=True)
    assert cursors.load(meter.address).last_sequence == 2
    assert [g.mg_dl for g in second] == [100, 110]
    meter.reset()
    meter.add(90, at=T0 + dt.timedelta(days=3), status=SensorStatus.STRIP_INSERTION_ERROR)
    meter.add(95, at=T0 + dt.timedelta(days=3, hours=1))
    items = await take(meter, ReadingKind.GLUCOSE, 3, cursors)
    codes = [i.code for i in items if isinstance(i, GatewayEvent)]
    assert codes[0] == "meter_reset" and "decode_error" in codes
    assert any(isinstance(i, Glucose) and i.mg_dl == 95 for i in items)


async def test_ecg_strips_and_heart_rate() -> None:
    strips = await take(PolarStrap(), ReadingKind.ECG, 2, ecg_segment_s=2)
    assert all(isinstance(s, EcgStrip) and s.gaps == () for s in strips)
    assert strips[1].start > strips[0].start
    beats = await take(HeartRateStrap(bpm=70), ReadingKind.HEART_RATE, 3)
    assert all(isinstance(b, HeartRate) and 55 < b.bpm < 85 for b in beats)


async def test_a_simulator_configured_as_real_is_still_marked_simulated() -> None:
    cuff = GattBpCuff([bp_record(140, 90, at=T0)])
    (reading,) = await take(cuff, ReadingKind.BLOOD_PRESSURE, 1, configured_simulated=False)
    assert reading.simulated
    strips = await take(PolarStrap(), ReadingKind.ECG, 1, configured_simulated=False,
                        ecg_segment_s=1)
    assert strips[0].simulated
