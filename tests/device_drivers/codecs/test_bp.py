import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from device_drivers.codecs.bp import (
    BloodPressureMeasurement,
    BpFeature,
    BpMeasurementStatus,
    IntermediateCuffPressure,
    PulseRateRange,
    decode_bp_feature,
    decode_bp_measurement,
    decode_intermediate_cuff_pressure,
    encode_bp_feature,
    encode_bp_measurement,
    encode_intermediate_cuff_pressure,
)
from device_drivers.codecs.date_time import DateTime
from device_drivers.codecs.numbers import MderFloat, MderSpecial
from device_drivers.errors import DecodeError, EncodeError
from device_drivers.quirks import NO_QUIRKS, quirks_for
from tests.device_drivers.codecs import strategies as gen
from tests.device_drivers.codecs.vectors import BP
from vitals.units import PressureUnit

VEC = {v.id: v for v in BP}
BM85 = quirks_for("Beurer", "BM85")


# --- real captures first ---------------------------------------------------------------


def test_v_bp5_real_capture_with_nan_fields() -> None:
    m = decode_bp_measurement(VEC["V-BP5"].payload)
    assert m.unit is PressureUnit.MMHG
    assert m.systolic == MderFloat(156, 0)
    assert m.diastolic is MderSpecial.NAN
    assert m.mean_arterial is MderSpecial.NAN
    assert m.pulse_rate is MderSpecial.NAN  # never "2047 bpm"
    assert m.timestamp == DateTime(2019, 8, 9, 13, 24, 53)
    assert m.user_id == 0
    assert m.status == BpMeasurementStatus(0x0010)
    assert m.status.pulse_rate_range is PulseRateRange.BELOW_LOWER_LIMIT
    # The same bytes as an ICP frame: the cuff pressure.
    icp = decode_intermediate_cuff_pressure(VEC["V-BP5"].payload)
    assert isinstance(icp, IntermediateCuffPressure)
    assert icp.cuff_pressure == MderFloat(156, 0)


def test_v_bp6_real_beurer_bm85_with_quirks() -> None:
    m = decode_bp_measurement(VEC["V-BP6"].payload, BM85)
    assert (m.systolic, m.diastolic) == (MderFloat(106, 0), MderFloat(71, 0))
    assert m.mean_arterial is MderSpecial.NAN  # sent as 0 by the BM85
    assert m.timestamp == DateTime(2026, 8, 11, 18, 31, 0)
    assert m.pulse_rate == MderFloat(63, 0)  # big-endian 00 3F
    assert m.user_id == 0  # present although flags bit 3 is clear
    assert m.status == BpMeasurementStatus(0)
    assert m.flags == 0x56


def test_v_bp6_without_quirks_is_rejected_not_misread() -> None:
    with pytest.raises(DecodeError, match="trailing"):
        decode_bp_measurement(VEC["V-BP6"].payload)


def test_bm85_status_rfu_bit_is_kept() -> None:
    payload = bytes.fromhex("566A0047000000EA07080B121F00003F000040")
    m = decode_bp_measurement(payload, BM85)
    assert m.status is not None and m.status.reserved_bits == 0x0040
    assert encode_bp_measurement(m, BM85) == payload


# --- constructed vectors ---------------------------------------------------------------


def test_v_bp4() -> None:
    m = decode_bp_measurement(VEC["V-BP4"].payload)
    assert (m.systolic.value, m.diastolic.value, m.mean_arterial.value) == (124, 86, 97)  # type: ignore[union-attr]
    assert m.timestamp == DateTime(2024, 6, 15, 17, 17, 27)
    assert m.pulse_rate == MderFloat(51, 0)
    assert m.user_id is None
    assert m.status == BpMeasurementStatus(0)


def test_v_bp1_full() -> None:
    m = decode_bp_measurement(VEC["V-BP1"].payload)
    assert (m.systolic, m.diastolic, m.mean_arterial) == (
        MderFloat(138, 0),
        MderFloat(88, 0),
        MderFloat(120, 0),
    )
    assert m.timestamp == DateTime(0, 4, 17, 20, 41, 59)
    assert m.timestamp.to_naive() is None  # year unknown
    assert m.pulse_rate == MderFloat(60, 0) and m.user_id == 1
    s = m.status
    assert s is not None and s.raw == 0x0027
    assert s.body_movement and s.cuff_too_loose and s.irregular_pulse and s.improper_position
    assert s.pulse_rate_range is PulseRateRange.WITHIN_RANGE


def test_v_bp2_kpa() -> None:
    m = decode_bp_measurement(VEC["V-BP2"].payload)
    assert m.unit is PressureUnit.KPA
    assert m.systolic.value == 18.9 and m.diastolic.value == 11  # type: ignore[union-attr]
    assert m.mean_arterial.value == 15.9  # type: ignore[union-attr]
    assert m.pulse_rate == MderFloat(60, 0) and m.timestamp is None
    assert m.status is not None and m.status.cuff_too_loose
    assert m.status.pulse_rate_range is PulseRateRange.BELOW_LOWER_LIMIT


def test_v_bp3_minimal() -> None:
    m = decode_bp_measurement(VEC["V-BP3"].payload)
    assert m == BloodPressureMeasurement(
        PressureUnit.MMHG, MderFloat(189, -1), MderFloat(11, 0), MderFloat(159, -1)
    )


@pytest.mark.parametrize("vector", [v for v in BP if v.model is None], ids=lambda v: v.id)
def test_vectors_reencode_byte_exact(vector) -> None:  # type: ignore[no-untyped-def]
    m = decode_bp_measurement(vector.payload)
    assert encode_bp_measurement(m) == vector.payload


def test_bm85_reencodes_byte_exact() -> None:
    m = decode_bp_measurement(VEC["V-BP6"].payload, BM85)
    assert encode_bp_measurement(m, BM85) == VEC["V-BP6"].payload


# --- malformed ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hexstr", "reason"),
    [
        ("", "flags"),
        ("00 BDF0 0B00", "mean arterial"),
        ("02 BDF0 0B00 9FF0 E807 06", "time stamp"),
        ("04 BDF0 0B00 9FF0", "pulse"),
        ("00 BDF0 0B00 9FF0 00", "trailing"),
        ("00 0108 0B00 9FF0", "reserved"),
        ("02 7C00 5600 6100 E807 0D 0F 11 11 1B", "impossible"),
        ("02 7C00 5600 6100 E807 02 1E 11 11 1B", "no such date"),
        ("02 7C00 5600 6100 0A00 02 01 11 11 1B", "year"),
    ],
)
def test_malformed_raise_decode_error(hexstr: str, reason: str) -> None:
    payload = bytes.fromhex(hexstr.replace(" ", ""))
    with pytest.raises(DecodeError, match=reason) as info:
        decode_bp_measurement(payload)
    assert info.value.payload_hex == payload.hex()
    assert info.value.char_uuid.startswith("00002a35")


def test_encoder_rejects_out_of_range() -> None:
    m = BloodPressureMeasurement(
        PressureUnit.MMHG, MderFloat(5000, 0), MderFloat(80, 0), MderFloat(90, 0)
    )
    with pytest.raises(EncodeError, match="systolic"):
        encode_bp_measurement(m)
    with pytest.raises(EncodeError, match="user id"):
        encode_bp_measurement(
            BloodPressureMeasurement(
                PressureUnit.MMHG,
                MderFloat(120, 0),
                MderFloat(80, 0),
                MderFloat(90, 0),
                user_id=300,
            )
        )


def test_bm85_encoder_requires_user_id() -> None:
    m = BloodPressureMeasurement(
        PressureUnit.MMHG, MderFloat(120, 0), MderFloat(80, 0), MderSpecial.NAN
    )
    with pytest.raises(EncodeError, match="user id"):
        encode_bp_measurement(m, BM85)


def test_feature() -> None:
    value = decode_bp_feature(bytes.fromhex("2100"))
    assert value == BpFeature.BODY_MOVEMENT_DETECTION | BpFeature.MULTIPLE_BOND
    assert encode_bp_feature(value) == bytes.fromhex("2100")
    with pytest.raises(DecodeError):
        decode_bp_feature(b"\x01")
    with pytest.raises(DecodeError):
        decode_bp_feature(b"\x01\x00\x00")


# --- property round trips ----------------------------------------------------------------


@settings(deadline=None)  # shared CI box: wall-clock limits flake
@given(gen.bp_measurements())
def test_roundtrip(m: BloodPressureMeasurement) -> None:
    assert decode_bp_measurement(encode_bp_measurement(m)) == m


@settings(deadline=None)  # shared CI box: wall-clock limits flake
@given(gen.bp_measurements(cls=IntermediateCuffPressure))
def test_icp_roundtrip(m: IntermediateCuffPressure) -> None:
    assert decode_intermediate_cuff_pressure(encode_intermediate_cuff_pressure(m)) == m


@settings(deadline=None)  # shared CI box: wall-clock limits flake
@given(gen.bp_measurements(quirks=BM85))
def test_bm85_roundtrip(m: BloodPressureMeasurement) -> None:
    assert decode_bp_measurement(encode_bp_measurement(m, BM85), BM85) == m


def test_no_quirks_default() -> None:
    assert quirks_for(None, None) is NO_QUIRKS


@settings(deadline=None)
@given(st.integers(0, 0xFFFF))
def test_feature_roundtrip(bits: int) -> None:
    value = decode_bp_feature(encode_bp_feature(BpFeature(bits)))
    assert value == BpFeature(bits) and int(value) == bits
