import pytest
from hypothesis import given, settings

from device_drivers.codecs.date_time import DateTime
from device_drivers.codecs.numbers import MderFloat, MderSpecial
from device_drivers.codecs.plx import (
    PlxContinuous,
    PlxDeviceStatus,
    PlxMeasurementStatus,
    PlxSpotCheck,
    decode_plx_continuous,
    decode_plx_spot_check,
    encode_plx_continuous,
    encode_plx_spot_check,
)
from device_drivers.errors import DecodeError, EncodeError
from tests.device_drivers.codecs import strategies as gen


def test_spot_check_full() -> None:
    # flags 0x0F: timestamp, status, device status, PAI
    payload = bytes.fromhex("0F 6100 4800 E807 05 11 08 1E 00 8000 200000 2DF0".replace(" ", ""))
    m = decode_plx_spot_check(payload)
    assert m.spo2 == MderFloat(97, 0) and m.pulse_rate == MderFloat(72, 0)
    assert m.timestamp == DateTime(2024, 5, 17, 8, 30, 0)
    assert m.measurement_status == PlxMeasurementStatus.VALIDATED_DATA
    assert m.device_status == PlxDeviceStatus.LOW_PERFUSION
    assert m.pulse_amplitude_index == MderFloat(45, -1)
    assert not m.clock_not_set
    assert encode_plx_spot_check(m) == payload


def test_spot_check_minimal_nan_pulse() -> None:
    m = decode_plx_spot_check(bytes.fromhex("10 6000 FF07".replace(" ", "")))
    assert m.pulse_rate is MderSpecial.NAN and m.clock_not_set


def test_continuous_fast_slow() -> None:
    payload = bytes.fromhex("03 6100 4800 6000 4900 6200 4700".replace(" ", ""))
    m = decode_plx_continuous(payload)
    assert m.spo2_fast == MderFloat(96, 0) and m.pulse_rate_slow == MderFloat(71, 0)
    assert encode_plx_continuous(m) == payload


@pytest.mark.parametrize(
    ("hexstr", "reason"),
    [("00 6100", "pulse"), ("01 6100 4800 E807", "time"), ("04 6100 4800 2000", "device"),
     ("00 6100 4800 00", "trailing"), ("00 0108 4800", "reserved")],
)  # fmt: skip
def test_spot_malformed(hexstr: str, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        decode_plx_spot_check(bytes.fromhex(hexstr.replace(" ", "")))


@pytest.mark.parametrize(
    ("hexstr", "reason"),
    [("01 6100 4800 6000", "fast"), ("10 6100 4800", "amplitude"), ("", "flags")],
)
def test_continuous_malformed(hexstr: str, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        decode_plx_continuous(bytes.fromhex(hexstr.replace(" ", "")))


def test_encoder_pairs() -> None:
    with pytest.raises(EncodeError):
        encode_plx_continuous(
            PlxContinuous(MderFloat(97, 0), MderFloat(70, 0), spo2_fast=MderFloat(96, 0))
        )


@settings(deadline=None)  # shared CI box: wall-clock limits flake
@given(gen.plx_spot_checks())
def test_spot_roundtrip(m: PlxSpotCheck) -> None:
    assert decode_plx_spot_check(encode_plx_spot_check(m)) == m


@settings(deadline=None)  # shared CI box: wall-clock limits flake
@given(gen.plx_continuous())
def test_continuous_roundtrip(m: PlxContinuous) -> None:
    assert decode_plx_continuous(encode_plx_continuous(m)) == m
