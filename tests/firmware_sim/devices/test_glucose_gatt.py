"""The glucose meter model's RACP state machine, byte for byte (no transport)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from device_drivers.codecs.glucose import Meal, decode_glucose_context, decode_glucose_measurement
from device_drivers.uuids import (
    GLUCOSE_MEASUREMENT,
    GLUCOSE_MEASUREMENT_CONTEXT,
)
from device_drivers.uuids import (
    RECORD_ACCESS_CONTROL_POINT as RACP,
)
from firmware_sim.devices.gatt_model import AttError, Notify
from firmware_sim.devices.glucose_gatt import GlucoseMeter

T0 = dt.datetime(2026, 6, 1, 8)


@pytest.fixture
def meter() -> GlucoseMeter:
    m = GlucoseMeter()
    for i in range(5):
        m.add(100 + i, at=T0 + dt.timedelta(hours=i), meal=Meal.POSTPRANDIAL if i == 2 else None)
    m.subscribe(RACP, True)
    m.subscribe(GLUCOSE_MEASUREMENT, True)
    m.subscribe(GLUCOSE_MEASUREMENT_CONTEXT, True)
    return m


def racp(meter: GlucoseMeter, hex_request: str) -> list[Notify]:
    actions = meter.write(RACP, bytes.fromhex(hex_request))
    assert all(isinstance(a, Notify) for a in actions)
    return [a for a in actions if isinstance(a, Notify)]


def sequences(notes: list[Notify]) -> list[int]:
    return [decode_glucose_measurement(n.data).sequence for n in notes
            if n.char == GLUCOSE_MEASUREMENT]


def test_report_all_sends_records_context_then_success(meter: GlucoseMeter) -> None:
    notes = racp(meter, "0101")
    assert sequences(notes) == [1, 2, 3, 4, 5]
    chars = [n.char for n in notes]
    assert chars.index(GLUCOSE_MEASUREMENT_CONTEXT) == 3  # right after record #3
    assert decode_glucose_context(notes[3].data).sequence == 3
    assert notes[-1] == Notify(RACP, bytes.fromhex("06000101"))


@pytest.mark.parametrize(
    ("request_hex", "expected"),
    [
        ("0103010400", [4, 5]),
        ("0102010200", [1, 2]),
        ("01040102000400", [2, 3, 4]),
        ("0105", [1]),
        ("0106", [5]),
    ],
)
def test_filters(meter: GlucoseMeter, request_hex: str, expected: list[int]) -> None:
    notes = racp(meter, request_hex)
    assert sequences(notes) == expected and notes[-1].data == bytes.fromhex("06000101")


def test_count_nothing_found_and_refusals(meter: GlucoseMeter) -> None:
    assert racp(meter, "0401")[-1].data == bytes.fromhex("05000500")
    assert racp(meter, "0403010400")[-1].data == bytes.fromhex("05000200")
    assert racp(meter, "0103010900") == [Notify(RACP, bytes.fromhex("06000106"))]
    assert racp(meter, "0201")[-1].data == bytes.fromhex("06000202")  # delete unsupported
    assert racp(meter, "0300")[-1].data == bytes.fromhex("06000301")  # abort ok
    # user-facing-time filter (2025-01-01 00:00:00): not supported, like most meters
    assert racp(meter, "010302E90701010000 00".replace(" ", ""))[-1].data == bytes.fromhex(
        "06000109"
    )
    assert racp(meter, "0107")[-1].data == bytes.fromhex("06000103")  # invalid operator
    assert racp(meter, "09")[-1].data == bytes.fromhex("06000902")  # unknown op code


def test_delete_when_supported_and_reset(meter: GlucoseMeter) -> None:
    meter.supports_delete = True
    assert racp(meter, "0202010200")[-1].data == bytes.fromhex("06000201")
    assert sequences(racp(meter, "0101")) == [3, 4, 5]
    meter.reset()
    assert racp(meter, "0101") == [Notify(RACP, bytes.fromhex("06000106"))]
    meter.add(99, at=T0)
    assert sequences(racp(meter, "0101")) == [1]


def test_racp_needs_indications_enabled() -> None:
    meter = GlucoseMeter()
    with pytest.raises(AttError) as info:
        meter.write(RACP, bytes.fromhex("0101"))
    assert info.value.code == 0xFD


def test_real_accu_chek_record_shape() -> None:
    # V-GL1 (real capture, research ble.md): 88 mg/dL as 0xB058 = 88e-5 kg/L, offset +60.
    meter = GlucoseMeter()
    stored = meter.add(88, at=dt.datetime(2021, 10, 19, 8, 3, 35), offset_min=60)
    meter.subscribe(RACP, True)
    (record, done) = racp(meter, "0101")
    m = decode_glucose_measurement(record.data)
    assert record.data[3:10] == bytes.fromhex("E5070A13080323")
    assert record.data[10:14] == bytes.fromhex("3C0058B0")
    assert m == replace(stored.measurement, flags=m.flags)
    assert done.data == bytes.fromhex("06000101")


def test_the_meter_clock_ticks_from_where_it_was_set(monkeypatch: pytest.MonkeyPatch) -> None:
    ticks = iter([100.0, 165.4, 200.0, 230.9])
    monkeypatch.setattr("firmware_sim.devices.glucose_gatt.time.monotonic", lambda: next(ticks))
    meter = GlucoseMeter(clock=T0)  # set at t=100
    assert meter.clock == T0 + dt.timedelta(seconds=65)  # read at t=165.4, whole seconds
    meter.clock = T0 + dt.timedelta(days=1)  # a Current Time write at t=200
    assert meter.clock == T0 + dt.timedelta(days=1, seconds=30)


def test_a_catalog_meter_has_its_clock_set_like_the_records_it_holds() -> None:
    """Its records carry real times, so its clock must too: a gateway reads the clock to
    correct the record times (device clock → UTC), and a meter still at its factory time
    would push every stored result into the future."""
    from firmware_sim.devices.catalog import make_model

    now = dt.datetime(2026, 11, 26, 9, 30)
    meter = make_model("glucose", records=3, now=now)
    assert isinstance(meter, GlucoseMeter)
    assert now <= meter.clock < now + dt.timedelta(minutes=1)
    times = [r.measurement.base_time.to_naive() for r in meter.records]
    assert times and all(t is not None and t < meter.clock for t in times)
