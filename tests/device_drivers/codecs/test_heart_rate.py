import pytest
from hypothesis import given, settings

from device_drivers.codecs.heart_rate import (
    HeartRateMeasurement,
    SensorContact,
    decode_heart_rate,
    encode_heart_rate,
)
from device_drivers.errors import DecodeError, EncodeError
from tests.device_drivers.codecs import strategies as gen


def test_constructed_vector() -> None:
    m = decode_heart_rate(bytes.fromhex("16483903"))
    assert m.heart_rate == 72
    assert m.sensor_contact is SensorContact.DETECTED
    assert m.rr_intervals == (825,)
    assert m.rr_intervals_s[0] * 1000 == pytest.approx(805.7, abs=0.05)
    assert encode_heart_rate(m) == bytes.fromhex("16483903")


def test_uint16_energy_and_several_rr() -> None:
    payload = bytes.fromhex("19 2C01 1000 0004 0002".replace(" ", ""))
    m = decode_heart_rate(payload)
    assert m.heart_rate == 300 and m.energy_expended_kj == 16
    assert m.rr_intervals == (1024, 512)
    assert m.sensor_contact is SensorContact.NOT_SUPPORTED
    assert encode_heart_rate(m) == payload


def test_rr_flag_with_no_rr_values() -> None:
    m = decode_heart_rate(bytes.fromhex("1048"))
    assert m.rr_intervals == () and encode_heart_rate(m) == bytes.fromhex("1048")


def test_contact_not_detected() -> None:
    assert decode_heart_rate(bytes.fromhex("0448")).sensor_contact is SensorContact.NOT_DETECTED


@pytest.mark.parametrize(
    ("hexstr", "reason"),
    [("", "flags"), ("01 48", "heart rate"), ("10 48 39", "RR"), ("08 48 10", "energy"),
     ("00 48 00", "trailing")],
)  # fmt: skip
def test_malformed(hexstr: str, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        decode_heart_rate(bytes.fromhex(hexstr.replace(" ", "")))


def test_encoder_range() -> None:
    with pytest.raises(EncodeError):
        encode_heart_rate(HeartRateMeasurement(70000))
    assert encode_heart_rate(HeartRateMeasurement(300))[0] & 0x01


@settings(deadline=None)  # shared CI box: wall-clock limits flake
@given(gen.heart_rates())
def test_roundtrip(m: HeartRateMeasurement) -> None:
    assert decode_heart_rate(encode_heart_rate(m)) == m
