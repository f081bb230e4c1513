import pytest
from hypothesis import given, settings

from device_drivers.codecs.date_time import DateTime
from device_drivers.codecs.numbers import MderSpecial
from device_drivers.codecs.weight import WeightMeasurement, decode_weight, encode_weight
from device_drivers.errors import DecodeError, EncodeError
from tests.device_drivers.codecs import strategies as gen


def test_si_with_everything() -> None:
    # 72.35 kg = 14470 x 0.005; 2024-05-17 08:30; user 2; BMI 23.6; height 1.750 m
    payload = bytes.fromhex("0E 8638 E807 05 11 08 1E 00 02 EC00 D606".replace(" ", ""))
    m = decode_weight(payload)
    assert m.weight == pytest.approx(72.35)
    assert m.timestamp == DateTime(2024, 5, 17, 8, 30, 0)
    assert m.user_id == 2 and m.bmi == pytest.approx(23.6) and m.height == pytest.approx(1.75)
    assert encode_weight(m) == payload


def test_imperial() -> None:
    m = decode_weight(bytes.fromhex("09 5A3E EC00 BC02".replace(" ", "")))
    assert m.imperial and m.weight == pytest.approx(159.62)
    assert m.height == pytest.approx(70.0)  # inches


def test_unsuccessful_is_special_not_number() -> None:
    assert decode_weight(bytes.fromhex("00FFFF")).weight is MderSpecial.NAN


def test_of_rounds_to_resolution() -> None:
    assert WeightMeasurement.of(72.35).weight_raw == 14470
    assert WeightMeasurement.of(159.62, imperial=True).weight_raw == 15962


@pytest.mark.parametrize(
    ("hexstr", "reason"),
    [
        ("00 86", "weight"),
        ("08 8638 EC00", "height"),
        ("04 8638", "user"),
        ("00 8638 00", "trailing"),
    ],
)
def test_malformed(hexstr: str, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        decode_weight(bytes.fromhex(hexstr.replace(" ", "")))


def test_encoder_pairs() -> None:
    with pytest.raises(EncodeError):
        encode_weight(WeightMeasurement(False, 100, bmi_raw=200))


@settings(deadline=None)  # shared CI box: wall-clock limits flake
@given(gen.weights())
def test_roundtrip(m: WeightMeasurement) -> None:
    assert decode_weight(encode_weight(m)) == m
