"""The production bleak transport against BlueZ's D-Bus API (BlueZoo mock, no radio).

Simulated devices run as real BlueZ GATT applications with LE advertisements on their
own mock adapters; the gateway side is unmodified bleak + bleak-retry-connector on hci0.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from device_drivers.ble.bleak_transport import BleakTransport
from device_drivers.ble.bp import collect_bp
from device_drivers.ble.cursors import JsonFileCursorStore, MemoryCursorStore
from device_drivers.ble.ecg import PolarEcgStream
from device_drivers.ble.glucose import download_glucose
from device_drivers.ble.transport import Advertisement, Matcher
from device_drivers.codecs.bp import encode_bp_measurement
from device_drivers.codecs.glucose import Meal, encode_glucose_measurement
from device_drivers.uuids import PMD_DATA, PMD_SERVICE
from firmware_sim.bluez.mock import BlueZooMock
from firmware_sim.bluez.peripheral import BluezDevice
from firmware_sim.devices.bp_gatt import BP_SERVICE, GattBpCuff, bp_record
from firmware_sim.devices.ecg_gatt import PolarStrap
from firmware_sim.devices.ecg_synth import SyntheticEcg
from firmware_sim.devices.glucose_gatt import GLUCOSE_SERVICE, GlucoseMeter

pytestmark = [pytest.mark.bluez, pytest.mark.timeout(120)]

T0 = dt.datetime(2026, 3, 1, 8, 0, 0)


async def find(transport: BleakTransport, matcher: Matcher, wait_s: float = 30) -> Advertisement:
    async with asyncio.timeout(wait_s):
        async for adv in transport.advertisements(matcher):
            return adv
    raise AssertionError("scanner ended")


async def test_scan_connect_and_collect_a_cuff_burst(bluez: BlueZooMock) -> None:
    records = [bp_record(120 + i, 80 + i, 60 + i, at=T0 + dt.timedelta(hours=i)) for i in range(3)]
    cuff = GattBpCuff(records)
    store = MemoryCursorStore()
    async with BluezDevice(cuff, adapter="hci1"), BleakTransport(adapter="hci0") as transport:
        adv = await find(transport, Matcher.of(services=[BP_SERVICE]))
        assert adv.address == bluez.addresses[1]
        assert adv.name == "HomeRPM-BP" and BP_SERVICE in adv.service_uuids
        async with transport.connect(adv, required=["2a35"]) as conn:
            burst = await collect_bp(conn, store=store, quiet_timeout=1.0)
        await burst.commit()
        assert [r.notification.data for r in burst.records] == [
            encode_bp_measurement(r) for r in records
        ]
        assert len(burst.intermediate) == cuff.icp_steps
        assert burst.info.model == "SimCuff"
    # Now the cuff resends everything plus a new record, to a "restarted gateway" on another
    # adapter with the same cursor store, which is the point: dedupe state survived the commit.
    cuff.send_all = True
    cuff.measure(bp_record(150, 95, 70, at=T0 + dt.timedelta(days=1)))
    async with BluezDevice(cuff, adapter="hci1"), BleakTransport(adapter="hci4") as transport:
        adv = await find(transport, Matcher.of(addresses=[bluez.addresses[1]]))
        async with transport.connect(adv) as conn:
            again = await collect_bp(conn, store=store, quiet_timeout=1.0)
    assert again.duplicates == 3
    assert [r.measurement.systolic.value for r in again.records] == [150]


async def test_glucose_download_all_then_new_records_after_restart(
    bluez: BlueZooMock, tmp_path: Path
) -> None:
    meter = GlucoseMeter()
    for i in range(4):
        meter.add(95 + i, at=T0 + dt.timedelta(hours=i), meal=Meal.FASTING if i == 1 else None)
    store = JsonFileCursorStore(tmp_path / "cursors.json")
    async with BluezDevice(meter, adapter="hci2"), BleakTransport(adapter="hci0") as transport:
        adv = await find(transport, Matcher.of(services=[GLUCOSE_SERVICE]))
        assert adv.address == bluez.addresses[2]
        async with transport.connect(adv, required=["2a18", "2a52"]) as conn:
            first = await download_glucose(conn, store)
        assert [r.sequence for r in first.records] == [1, 2, 3, 4]
        assert first.records[1].context is not None
        assert first.records[1].context.meal == Meal.FASTING
        assert first.time_set and len(meter.time_writes) == 1
        await first.commit()
    meter.add(140, at=T0 + dt.timedelta(days=1))
    meter.add(150, at=T0 + dt.timedelta(days=1, hours=1))
    # A restarted gateway (another adapter) reading the same cursor file.
    async with BluezDevice(meter, adapter="hci2"), BleakTransport(adapter="hci4") as transport:
        adv = await find(transport, Matcher.of(addresses=[bluez.addresses[2]]))
        async with transport.connect(adv) as conn:
            second = await download_glucose(conn, JsonFileCursorStore(tmp_path / "cursors.json"))
    assert meter.requests[-1] == bytes.fromhex("0103010400")  # >= 4: anchor + new
    assert [r.sequence for r in second.records] == [5, 6]
    assert [r.notification.data for r in second.records] == [
        encode_glucose_measurement(s.measurement) for s in meter.records[4:]
    ]


async def test_a_meter_that_stays_up_is_read_again_on_the_same_adapter(
    bluez: BlueZooMock,
) -> None:
    """The everyday case: the meter keeps advertising, the gateway connects after each new
    result. Needs the mock to tear the GATT link down on disconnect as BlueZ does
    (``firmware_sim.bluez.zoo``); BlueZoo alone refused the second connection."""
    meter = GlucoseMeter()
    meter.add(101, at=T0)
    store = MemoryCursorStore()
    seen: list[list[int]] = []
    async with BluezDevice(meter, adapter="hci3"), BleakTransport(adapter="hci0") as transport:
        for value in (120, 130):
            adv = await find(transport, Matcher.of(addresses=[bluez.addresses[3]]))
            async with transport.connect(adv, required=["2a18", "2a52"]) as conn:
                download = await download_glucose(conn, store)
            await download.commit()
            seen.append([r.sequence for r in download.records])
            meter.add(value, at=T0 + dt.timedelta(hours=len(seen)))
    assert seen == [[1], [2]]


async def test_ecg_streams_ten_seconds_at_130_hz_without_lost_frames(bluez: BlueZooMock) -> None:
    strap = PolarStrap(SyntheticEcg(seed=7))
    async with BluezDevice(strap, adapter="hci3"), BleakTransport(adapter="hci0") as transport:
        adv = await find(transport, Matcher.of(services=[PMD_SERVICE]))
        samples = []
        async with transport.connect(adv, required=[PMD_DATA]) as conn, PolarEcgStream(
            conn, segment_s=5
        ) as ecg:
            async for segment in ecg.segments():
                assert segment.gaps == ()
                samples.append(segment.samples_uv)
                if sum(s.size for s in samples) >= 10 * 130:
                    break
        assert strap.commands[-1] == bytes.fromhex("0300") and not strap.streaming
    got = np.concatenate(samples)
    assert got.size >= 1300 and ecg.missing_samples == 0 and not ecg.bad
    assert np.array_equal(got, SyntheticEcg(seed=7).next(got.size))
    assert ecg.frames == strap.frames_sent or ecg.frames == strap.frames_sent - 1  # in flight
