"""Session results become vitals readings (or kept rejections), minted at capture."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from device_drivers.ble.bp import collect_bp
from device_drivers.ble.capture import Who, capture_bp, capture_ecg, capture_glucose
from device_drivers.ble.cursors import MemoryCursorStore
from device_drivers.ble.ecg import PolarEcgStream
from device_drivers.ble.glucose import download_glucose
from device_drivers.ble.memory import MemoryTransport
from device_drivers.codecs.glucose import Meal, SensorStatus
from device_drivers.codecs.numbers import MderSpecial
from firmware_sim.devices.bp_gatt import GattBpCuff, bp_record
from firmware_sim.devices.ecg_gatt import PolarStrap
from firmware_sim.devices.gatt_model import DeviceModel
from firmware_sim.devices.glucose_gatt import GlucoseMeter
from firmware_sim.devices.inprocess import InProcessDevice
from vitals.readings import BloodPressure, DeviceRef, EcgStrip, Glucose, MealContext

T0 = dt.datetime(2026, 8, 1, 9)
WHO = Who("p-0007", DeviceRef(make="HomeRPM", model="Sim", address="C0:FF:EE:00:00:01"), True)


async def run(model: DeviceModel, session):
    async with (
        InProcessDevice(model) as dev,
        MemoryTransport([dev]) as transport,
        transport.connect(await anext(transport.advertisements())) as conn,
    ):
        return await session(conn)


async def test_bp_burst_to_readings_and_nan_systolic_rejected() -> None:
    bad = bp_record(120, 80, at=T0)
    cuff = GattBpCuff([bp_record(131, 84, 66, at=T0), replace(bad, systolic=MderSpecial.NAN)])
    burst = await run(cuff, lambda c: collect_bp(c, quiet_timeout=2))
    got = capture_bp(burst, WHO)
    (reading,) = got.readings
    assert isinstance(reading, BloodPressure)
    assert (reading.systolic, reading.diastolic, reading.pulse) == (131, 84, 66)
    assert reading.simulated and reading.patient == "p-0007" and len(reading.msg_id) == 26
    (rejected,) = got.rejected
    assert "systolic" in rejected.reason and rejected.payload_hex.startswith("1e")


async def test_glucose_with_context_and_strip_error() -> None:
    meter = GlucoseMeter()
    meter.add(104, at=T0, meal=Meal.FASTING)
    meter.add(99, at=T0, status=SensorStatus.STRIP_INSERTION_ERROR)
    download = await run(meter, lambda c: download_glucose(c, MemoryCursorStore()))
    got = capture_glucose(download, WHO)
    (reading,) = got.readings
    assert isinstance(reading, Glucose) and reading.mg_dl == 104
    assert reading.meal is MealContext.FASTING and reading.seq == 1
    assert "unreliable" in got.rejected[0].reason


async def test_ecg_segment_to_strip() -> None:
    async def one_segment(conn):
        async with PolarEcgStream(conn, segment_s=2) as ecg:
            async for segment in ecg.segments():
                return segment, ecg.clock_offset
        raise AssertionError

    segment, offset = await run(PolarStrap(), one_segment)
    got = capture_ecg(segment, dt.datetime.now(dt.UTC), Who("p-0007", WHO.device, True, offset))
    (strip,) = got.readings
    assert isinstance(strip, EcgStrip) and strip.fs_hz == 130
    assert len(strip.samples_uv) == segment.samples_uv.size and strip.gaps == ()


async def test_glucose_times_use_the_meter_clock_offset_read_before_setting_it() -> None:
    now_local = dt.datetime.now().replace(microsecond=0)
    meter = GlucoseMeter(clock=now_local - dt.timedelta(minutes=47))  # meter runs 47 min late
    meter.add(120, at=meter.clock - dt.timedelta(hours=1))  # taken 1 h ago by its clock
    download = await run(meter, lambda c: download_glucose(c, MemoryCursorStore()))
    assert download.time_set and download.clock_offset is not None
    (reading,) = capture_glucose(download, WHO).readings
    true_time = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    assert abs((reading.measured_at - true_time).total_seconds()) < 5
