import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from device_drivers.codecs.date_time import DateTime
from device_drivers.codecs.glucose import (
    GlucoseContext,
    GlucoseFeature,
    GlucoseLocation,
    GlucoseMeasurement,
    GlucoseType,
    Meal,
    SensorStatus,
    decode_glucose_context,
    decode_glucose_feature,
    decode_glucose_measurement,
    encode_glucose_context,
    encode_glucose_feature,
    encode_glucose_measurement,
)
from device_drivers.codecs.numbers import MderFloat, MderSpecial
from device_drivers.errors import DecodeError, EncodeError
from tests.device_drivers.codecs import strategies as gen
from tests.device_drivers.codecs.vectors import GLUCOSE

VEC = {v.id: v for v in GLUCOSE}


def test_v_gl1_real_accu_chek() -> None:
    m = decode_glucose_measurement(VEC["V-GL1"].payload)
    assert m.sequence == 4
    assert m.base_time == DateTime(2021, 10, 19, 8, 3, 35)
    assert m.time_offset_min == 60
    assert m.concentration == MderFloat(88, -5)  # 88e-5 kg/L = 88 mg/dL
    assert not m.mol_per_l
    assert m.type_enum is GlucoseType.UNDETERMINED_PLASMA
    assert m.location_enum is GlucoseLocation.NOT_AVAILABLE
    assert m.sensor_status == SensorStatus(0)
    assert not m.context_follows and not m.is_control_solution


def test_v_gl3_real_lo_reading_with_context() -> None:
    m = decode_glucose_measurement(VEC["V-GL3"].payload)
    assert m.sequence == 12 and m.base_time == DateTime(2021, 11, 15, 12, 38, 40)
    assert m.concentration is MderSpecial.NEGATIVE_INFINITY  # LO, not a number
    assert m.sensor_status == SensorStatus.RESULT_TOO_LOW
    assert m.context_follows
    c = decode_glucose_context(VEC["V-GL3-ctx"].payload)
    assert c.sequence == 12 and c.meal_enum is Meal.PREPRANDIAL


def test_v_gl5_nordic() -> None:
    m = decode_glucose_measurement(VEC["V-GL5"].payload)
    assert m.sequence == 1 and m.time_offset_min == -5
    assert m.base_time == DateTime(2019, 2, 27, 11, 10, 30)
    assert m.concentration == MderFloat(30, 0)
    assert m.type_enum is GlucoseType.CAPILLARY_PLASMA
    assert m.location_enum is GlucoseLocation.FINGER
    assert m.sensor_status == (
        SensorStatus.BATTERY_LOW
        | SensorStatus.SAMPLE_SIZE_INSUFFICIENT
        | SensorStatus.TEMPERATURE_TOO_LOW
    )
    assert m.context_follows


def test_v_gl6_constructed() -> None:
    m = decode_glucose_measurement(VEC["V-GL6"].payload)
    assert (m.sequence, m.time_offset_min, m.concentration) == (3, -60, MderFloat(103, -5))
    assert m.type_enum is GlucoseType.CAPILLARY_WHOLE_BLOOD
    assert m.location_enum is GlucoseLocation.FINGER
    assert m.sensor_status is None


@pytest.mark.parametrize("vector", GLUCOSE, ids=lambda v: v.id)
def test_vectors_reencode_byte_exact(vector) -> None:  # type: ignore[no-untyped-def]
    if vector.char == "2A34":
        assert encode_glucose_context(decode_glucose_context(vector.payload)) == vector.payload
    else:
        value = decode_glucose_measurement(vector.payload)
        assert encode_glucose_measurement(value) == vector.payload


def test_control_solution_detected() -> None:
    m = GlucoseMeasurement(
        1, DateTime(2024, 1, 1, 0, 0, 0), None, MderFloat(100, -5), False, 10, 15
    )
    assert m.is_control_solution
    m2 = GlucoseMeasurement(1, DateTime(2024, 1, 1, 0, 0, 0), None, MderFloat(100, -5), False, 1, 4)
    assert m2.is_control_solution


def test_context_all_fields() -> None:
    c = GlucoseContext(
        sequence=7,
        extended_flags=0,
        carbohydrate_id=1,
        carbohydrate_kg=MderFloat(50, -3),
        meal=2,
        tester=1,
        health=5,
        exercise_duration_s=1800,
        exercise_intensity_pct=40,
        medication_id=1,
        medication=MderFloat(4, -6),
        medication_litres=True,
        hba1c_pct=MderFloat(65, -1),
    )
    payload = encode_glucose_context(c)
    assert payload[0] == 0xFF
    assert decode_glucose_context(payload) == c


@pytest.mark.parametrize(
    ("hexstr", "reason"),
    [
        ("0B0400E5070A130803233C0058B0F800", "sensor status"),
        ("0B0400E5070A130803233C0058B0F8000000", "trailing"),
        ("000400E5070A1308", "base time"),
        ("020400E5070A130803230108F8", "reserved"),
        ("000400E5070B1F080323", "no such date"),
    ],
)
def test_malformed_measurement(hexstr: str, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        decode_glucose_measurement(bytes.fromhex(hexstr))


@pytest.mark.parametrize(
    ("hexstr", "reason"), [("020C00", "meal"), ("200C00", "medication unit"), ("010C0001", "carbo")]
)
def test_malformed_context(hexstr: str, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        decode_glucose_context(bytes.fromhex(hexstr))


def test_encoder_checks_pairs() -> None:
    with pytest.raises(EncodeError):
        encode_glucose_measurement(
            GlucoseMeasurement(1, DateTime(2024, 1, 1, 0, 0, 0), concentration=MderFloat(1, 0))
        )
    with pytest.raises(EncodeError):
        encode_glucose_context(GlucoseContext(1, tester=1))


def test_feature() -> None:
    value = decode_glucose_feature(bytes.fromhex("2004"))
    assert value == GlucoseFeature.RESULT_HIGH_LOW_DETECTION | GlucoseFeature.MULTIPLE_BOND
    assert encode_glucose_feature(value) == bytes.fromhex("2004")
    with pytest.raises(DecodeError):
        decode_glucose_feature(b"\x00")


@settings(deadline=None)  # shared CI box: wall-clock limits flake
@given(gen.glucose_measurements())
def test_measurement_roundtrip(m: GlucoseMeasurement) -> None:
    assert decode_glucose_measurement(encode_glucose_measurement(m)) == m


@settings(deadline=None)  # shared CI box: wall-clock limits flake
@given(gen.glucose_contexts())
def test_context_roundtrip(c: GlucoseContext) -> None:
    assert decode_glucose_context(encode_glucose_context(c)) == c


def test_concentration_helpers_for_simulators() -> None:
    from device_drivers.codecs.glucose import (
        concentration_display,
        concentration_from_mg_dl,
        concentration_from_mmol_l,
    )

    assert concentration_from_mg_dl(88) == MderFloat(88, -5)  # V-GL1's 0xB058
    assert concentration_from_mg_dl(103) == MderFloat(103, -5)
    assert concentration_from_mg_dl(88.5, 1) == MderFloat(885, -6)
    assert concentration_from_mmol_l(5.5) == MderFloat(55, -4)
    m = GlucoseMeasurement(
        1, DateTime(2024, 1, 1, 0, 0, 0), None, concentration_from_mmol_l(5.5), True, 1, 1
    )
    assert str(concentration_display(m)) == "5.5"
    with pytest.raises(ValueError):
        concentration_from_mg_dl(5000, 0)


@settings(deadline=None)
@given(st.integers(0, 0xFFFF))
def test_feature_roundtrip(bits: int) -> None:
    value = decode_glucose_feature(encode_glucose_feature(GlucoseFeature(bits)))
    assert int(value) == bits
