import datetime as dt

import pytest

from device_drivers.codecs.date_time import DateTime
from device_drivers.codecs.glucose import (
    GlucoseContext,
    GlucoseMeasurement,
    SensorStatus,
    decode_glucose_context,
    decode_glucose_measurement,
)
from device_drivers.codecs.numbers import MderFloat, MderSpecial
from device_drivers.errors import MappingError
from device_drivers.glucose_readings import GlucoseRecordJoiner, glucose_to_reading
from vitals.ids import new_msg_id
from vitals.readings import (
    DeviceRef,
    GlucoseLocation,
    GlucoseSampleType,
    MealContext,
    RangeFlag,
)
from vitals.units import GlucoseUnit

RECEIVED = dt.datetime(2021, 11, 15, 12, 0, 0, tzinfo=dt.UTC)
DEVICE = DeviceRef(make="Roche", model="Accu-Chek Guide", serial="92301234")
UTC_OFFSET = dt.timedelta(0)


def _map(m: GlucoseMeasurement, context: GlucoseContext | None = None, **kw: object):  # type: ignore[no-untyped-def]
    args: dict[str, object] = dict(
        msg_id=new_msg_id(), patient="p-2", device=DEVICE, received_at=RECEIVED, simulated=False,
        clock_offset=UTC_OFFSET,
    )  # fmt: skip
    args.update(kw)
    return glucose_to_reading(m, context, **args)  # type: ignore[arg-type]


def _m(**kw: object) -> GlucoseMeasurement:
    fields: dict[str, object] = dict(
        sequence=9, base_time=DateTime(2024, 5, 17, 7, 3, 0), concentration=MderFloat(103, -5),
        sample_type=1, sample_location=1,
    )  # fmt: skip
    fields.update(kw)
    return GlucoseMeasurement(**fields)  # type: ignore[arg-type]


def test_real_v_gl1() -> None:
    m = decode_glucose_measurement(bytes.fromhex("0B0400E5070A130803233C0058B0F80000"))
    r = _map(m)
    assert r.mg_dl == 88 and r.value_received == 88 and r.unit_received is GlucoseUnit.MG_DL
    assert r.measured_at == dt.datetime(2021, 10, 19, 9, 3, 35, tzinfo=dt.UTC)  # base + 60 min
    assert r.device_time == "2021-10-19T08:03:35 offset=+60min"
    assert r.sample_type is GlucoseSampleType.UNDETERMINED_PLASMA
    assert r.sample_location is GlucoseLocation.NOT_AVAILABLE
    assert r.range_flag is None and not r.control_solution
    assert r.seq == 4


def test_real_v_gl3_lo_with_context() -> None:
    m = decode_glucose_measurement(bytes.fromhex("1B0C00E5070B0F0C26283C000208F84000"))
    c = decode_glucose_context(bytes.fromhex("020C0001"))
    r = _map(m, c)
    assert r.range_flag is RangeFlag.LOW
    assert r.mg_dl == 20  # the conservative LO bound, not a measurement
    assert r.meal is MealContext.PREPRANDIAL
    r2 = _map(m, c, limits_mg_dl=(10.0, 600.0))
    assert r2.mg_dl == 10


def test_hi_by_infinity_and_by_status() -> None:
    r = _map(_m(concentration=MderSpecial.POSITIVE_INFINITY))
    assert r.range_flag is RangeFlag.HIGH and r.mg_dl == 500
    r = _map(_m(concentration=MderFloat(600, -5), sensor_status=SensorStatus.RESULT_TOO_HIGH))
    assert r.range_flag is RangeFlag.HIGH and r.mg_dl == 600


def test_mmol_converted_and_kept() -> None:
    r = _map(_m(concentration=MderFloat(55, -4), mol_per_l=True))  # 5.5 mmol/L
    assert r.value_received == 5.5 and r.unit_received is GlucoseUnit.MMOL_L
    assert r.mg_dl == pytest.approx(99.09, abs=0.01)


def test_lo_in_mmol_keeps_unit() -> None:
    r = _map(_m(concentration=MderSpecial.NEGATIVE_INFINITY, mol_per_l=True))
    assert r.range_flag is RangeFlag.LOW and r.unit_received is GlucoseUnit.MMOL_L
    assert r.value_received == pytest.approx(20 / 18.0156)


def test_control_solution_flagged() -> None:
    r = _map(_m(sample_type=10, sample_location=4))
    assert r.control_solution and r.sample_type is GlucoseSampleType.CONTROL_SOLUTION


@pytest.mark.parametrize(
    ("kw", "needle"),
    [
        ({"concentration": MderSpecial.NAN}, "NaN"),
        ({"concentration": MderSpecial.NRES}, "NRes"),
        ({"concentration": None, "sample_type": None, "sample_location": None}, "no concentration"),
        ({"sensor_status": SensorStatus.STRIP_INSERTION_ERROR}, "unreliable"),
        ({"concentration": MderFloat(30, 0)}, "out of bounds"),  # V-GL5's 30 kg/L
        ({"concentration": MderFloat(-5, -5)}, "out of bounds"),
        (
            {"concentration": MderSpecial.NEGATIVE_INFINITY,
             "sensor_status": SensorStatus.RESULT_TOO_HIGH},
            "both",
        ),
    ],
)  # fmt: skip
def test_not_a_reading(kw: dict[str, object], needle: str) -> None:
    with pytest.raises(MappingError, match=needle):
        _map(_m(**kw))


def test_battery_low_is_still_a_reading() -> None:
    assert _map(_m(sensor_status=SensorStatus.BATTERY_LOW)).mg_dl == 103


def test_context_must_match_sequence() -> None:
    with pytest.raises(MappingError, match="does not belong"):
        _map(_m(), GlucoseContext(sequence=10, meal=1))


def test_joiner_pairs_and_flushes() -> None:
    joiner = GlucoseRecordJoiner()
    a = _m(sequence=1)
    b = _m(sequence=2, context_follows=True)
    c = _m(sequence=3, context_follows=True)
    assert joiner.add_measurement(a) == [(a, None)]
    assert joiner.add_measurement(b) == []
    ctx = GlucoseContext(sequence=2, meal=3)
    assert joiner.add_context(ctx) == [(b, ctx)]
    assert joiner.add_measurement(c) == []
    assert joiner.add_context(GlucoseContext(sequence=99)) == []
    assert joiner.orphans == [GlucoseContext(sequence=99)]
    assert joiner.flush() == [(c, None)]
    assert joiner.flush() == []
