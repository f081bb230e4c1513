import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from device_drivers.codecs.device_info import (
    MANUFACTURER_NAME,
    MODEL_NUMBER,
    DeviceString,
    decode_battery_level,
    decode_device_string,
    encode_battery_level,
    encode_device_string,
)
from device_drivers.codecs.registry import decode
from device_drivers.errors import DecodeError, EncodeError
from device_drivers.quirks import quirks_for


def test_omron_manufacturer_string() -> None:
    value = decode("2A29", b"OMRONHEALTHCARE")
    assert value == DeviceString("OMRONHEALTHCARE")


def test_nul_padding_stripped_and_kept() -> None:
    value = decode_device_string(MODEL_NUMBER, b"BM85\x00\x00\x00")
    assert str(value) == "BM85" and value.nul_padding == 3
    assert encode_device_string(MODEL_NUMBER, value) == b"BM85\x00\x00\x00"
    assert quirks_for(str(decode("2A29", b"Beurer GmbH")), str(value)).name == "beurer-bm85"


@pytest.mark.parametrize("payload", [b"\xff\xfe", b"BM\x0085", b"\xc3"])
def test_bad_strings(payload: bytes) -> None:
    with pytest.raises(DecodeError):
        decode_device_string(MANUFACTURER_NAME, payload)


def test_battery_level() -> None:
    assert decode_battery_level(b"\x64") == 100
    assert encode_battery_level(42) == b"\x2a"
    for bad in (b"", b"\x65", b"\x10\x00"):
        with pytest.raises(DecodeError):
            decode_battery_level(bad)
    with pytest.raises(EncodeError):
        encode_battery_level(101)


@settings(deadline=None)  # shared CI box: wall-clock limits flake
@given(st.text().filter(lambda t: "\x00" not in t), st.integers(0, 4))
def test_string_roundtrip(text: str, padding: int) -> None:
    value = DeviceString(text, padding)
    assert decode_device_string(MODEL_NUMBER, encode_device_string(MODEL_NUMBER, value)) == value


@settings(deadline=None)
@given(st.integers(0, 100))
def test_battery_roundtrip(level: int) -> None:
    assert decode_battery_level(encode_battery_level(level)) == level
