"""Glucose session (RACP download, cursor, context join, resets) against the meter model."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from device_drivers.ble.cursors import JsonFileCursorStore, MemoryCursorStore, SqliteCursorStore
from device_drivers.ble.glucose import download_glucose
from device_drivers.ble.memory import MemoryTransport
from device_drivers.ble.transport import Matcher
from device_drivers.codecs.glucose import Meal, SensorStatus, encode_glucose_measurement
from device_drivers.codecs.numbers import MderSpecial
from device_drivers.codecs.racp import RacpResponseCode
from firmware_sim.devices.glucose_gatt import GLUCOSE_SERVICE, GlucoseMeter
from firmware_sim.devices.inprocess import InProcessDevice

T0 = dt.datetime(2026, 2, 1, 7, 30)


def meter_with(n: int) -> GlucoseMeter:
    meter = GlucoseMeter()
    for i in range(n):
        meter.add(90 + i, at=T0 + dt.timedelta(hours=i))
    return meter


async def download(transport: MemoryTransport, store, **kw):
    async for adv in transport.advertisements(Matcher.of(services=[GLUCOSE_SERVICE])):
        async with transport.connect(adv) as conn:
            return await download_glucose(conn, store, **kw)
    raise AssertionError("no advertisement")


async def test_first_contact_gets_all_then_only_new_records_after_commit() -> None:
    meter = meter_with(3)
    store = MemoryCursorStore()
    async with InProcessDevice(meter) as dev, MemoryTransport([dev]) as transport:
        first = await download(transport, store)
        assert [r.sequence for r in first.records] == [1, 2, 3]
        assert first.result is RacpResponseCode.SUCCESS and first.meter_count == 3
        assert [r.notification.data for r in first.records] == [
            encode_glucose_measurement(s.measurement) for s in meter.records
        ]
        assert meter.requests[-1] == bytes.fromhex("0101")
        await first.commit()
        meter.add(150, at=T0 + dt.timedelta(days=1))
        meter.add(160, at=T0 + dt.timedelta(days=2))
        second = await download(transport, store)
        assert meter.requests[-1] == bytes.fromhex("0103010300")  # >= 3 (anchor #3)
        assert [r.sequence for r in second.records] == [4, 5]
        await second.commit()
        third = await download(transport, store)
    assert third.records == [] and third.result is RacpResponseCode.SUCCESS  # anchor only
    assert third.complete and store.load(first.device_key).last_sequence == 5


async def test_plain_incremental_request_without_anchor() -> None:
    meter = meter_with(2)
    store = MemoryCursorStore()
    async with InProcessDevice(meter) as dev, MemoryTransport([dev]) as transport:
        await (await download(transport, store, verify_anchor=False)).commit()
        meter.add(130, at=T0 + dt.timedelta(days=1))
        got = await download(transport, store, verify_anchor=False)
    assert meter.requests[-1] == bytes.fromhex("0103010300")  # >= last+1 = 3
    assert [r.sequence for r in got.records] == [3]


async def test_without_commit_the_same_records_come_again() -> None:
    meter = meter_with(2)
    store = MemoryCursorStore()
    async with InProcessDevice(meter) as dev, MemoryTransport([dev]) as transport:
        first = await download(transport, store)
        again = await download(transport, store)  # caller crashed before storing
    assert [r.sequence for r in again.records] == [r.sequence for r in first.records] == [1, 2]


async def test_context_is_joined_by_sequence_and_lo_hi_control_kept() -> None:
    meter = GlucoseMeter()
    meter.add(101, at=T0, meal=Meal.PREPRANDIAL)
    meter.add(special=MderSpecial.NEGATIVE_INFINITY, at=T0 + dt.timedelta(hours=1))
    meter.add(
        special=MderSpecial.POSITIVE_INFINITY, at=T0 + dt.timedelta(hours=2), meal=Meal.BEDTIME
    )
    meter.add(100, at=T0 + dt.timedelta(hours=3), control_solution=True)
    async with InProcessDevice(meter) as dev, MemoryTransport([dev]) as transport:
        got = await download(transport, MemoryCursorStore())
    by_seq = {r.sequence: r for r in got.records}
    assert by_seq[1].context is not None and by_seq[1].context.meal == Meal.PREPRANDIAL
    assert by_seq[2].context is None
    assert by_seq[2].measurement.concentration is MderSpecial.NEGATIVE_INFINITY
    assert SensorStatus.RESULT_TOO_LOW in (by_seq[2].measurement.sensor_status or SensorStatus(0))
    assert by_seq[3].context is not None and by_seq[3].context.meal == Meal.BEDTIME
    assert by_seq[4].measurement.is_control_solution


@pytest.mark.parametrize("after_reset", [1, 5])
async def test_meter_reset_is_detected_and_everything_downloaded(after_reset: int) -> None:
    meter = meter_with(3)
    store = MemoryCursorStore()
    async with InProcessDevice(meter) as dev, MemoryTransport([dev]) as transport:
        await (await download(transport, store)).commit()
        meter.reset()
        for i in range(after_reset):
            meter.add(120 + i, at=T0 + dt.timedelta(days=10, hours=i))
        got = await download(transport, store)
        assert got.reset is not None, "reset not detected"
        assert got.reset.previous_last_sequence == 3
        assert [r.sequence for r in got.records] == list(range(1, after_reset + 1))
        await got.commit()
        meter.add(180, at=T0 + dt.timedelta(days=11))
        after = await download(transport, store)
    assert after.reset is None and [r.sequence for r in after.records] == [after_reset + 1]


async def test_current_time_is_written() -> None:
    meter = meter_with(1)
    async with InProcessDevice(meter) as dev, MemoryTransport([dev]) as transport:
        got = await download(transport, MemoryCursorStore())
    assert got.time_set and len(meter.time_writes) == 1
    written = meter.time_writes[0].to_naive()
    assert written is not None
    assert abs((written - dt.datetime.now()).total_seconds()) < 60


async def test_undecodable_record_is_kept_and_others_delivered() -> None:
    meter = meter_with(2)
    real = meter._racp

    def corrupt(data: bytes):
        actions = real(data)
        if data[:2] == b"\x01\x01":
            from firmware_sim.devices.gatt_model import Notify

            first = actions[0]
            assert isinstance(first, Notify)
            actions[0] = Notify(first.char, first.data[:5])
        return actions

    meter._racp = corrupt  # type: ignore[method-assign]
    async with InProcessDevice(meter) as dev, MemoryTransport([dev]) as transport:
        got = await download(transport, MemoryCursorStore())
    assert [r.sequence for r in got.records] == [2]
    (bad,) = got.bad
    assert "truncated" in bad.error.reason and len(bad.notification.data) == 5


@pytest.mark.parametrize("kind", ["json", "sqlite"])
def test_cursor_stores_persist(tmp_path: Path, kind: str) -> None:
    from device_drivers.ble.cursors import DeviceCursor

    path = tmp_path / ("cursors.json" if kind == "json" else "cursors.db")
    make = JsonFileCursorStore if kind == "json" else SqliteCursorStore
    store = make(path)
    store.save("AA:BB", DeviceCursor(7, 9, ("1@x",)))
    store.save("CC:DD", DeviceCursor(1, 1))
    reopened = make(path)
    assert reopened.load("AA:BB") == DeviceCursor(7, 9, ("1@x",))
    assert reopened.load("CC:DD").last_sequence == 1
    assert reopened.load("unknown") == DeviceCursor()


async def test_a_meter_that_never_answers_gets_an_abort() -> None:
    meter = meter_with(2)
    real = meter._racp

    def silent(data: bytes):
        actions = real(data)
        return [] if data[:1] == b"\x01" else actions  # reports vanish, others answer

    meter._racp = silent  # type: ignore[method-assign]
    async with InProcessDevice(meter) as dev, MemoryTransport([dev]) as transport:
        got = await download(transport, MemoryCursorStore(), reply_wait_s=0.3)
    assert got.records == [] and got.result is None and not got.complete
    assert meter.requests[-1] == bytes.fromhex("0300")  # abort sent
