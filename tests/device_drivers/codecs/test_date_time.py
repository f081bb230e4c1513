import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from device_drivers.codecs.date_time import (
    AdjustReason,
    CurrentTime,
    DateTime,
    decode_current_time,
    decode_date_time,
    encode_current_time,
    encode_date_time,
)
from device_drivers.errors import DecodeError, EncodeError
from tests.device_drivers.codecs import strategies as gen


def test_and_doc_example() -> None:
    value = decode_date_time(bytes.fromhex("DD07081A090A14"))
    assert value == DateTime(2013, 8, 26, 9, 10, 20)
    assert value.isoformat() == "2013-08-26T09:10:20"
    assert encode_date_time(value) == bytes.fromhex("DD07081A090A14")


def test_current_time_constructed() -> None:
    payload = bytes.fromhex("E8070511081E00050001")
    value = decode_current_time(payload)
    assert value == CurrentTime(
        DateTime(2024, 5, 17, 8, 30, 0), 5, 0, AdjustReason.MANUAL_TIME_UPDATE
    )
    assert encode_current_time(value) == payload


def test_unknown_date_parts() -> None:
    value = decode_date_time(bytes.fromhex("0000041114293B"))
    assert value.to_naive() is None and not value.is_complete


@pytest.mark.parametrize(
    "hexstr",
    ["DD07081A090A", "DD07081A090A1400", "DD070D1A090A14", "DD07081A180A14", "0100081A090A14",
     "E507021D000000"],
)  # fmt: skip
def test_bad_date_time(hexstr: str) -> None:
    with pytest.raises(DecodeError):
        decode_date_time(bytes.fromhex(hexstr))


@pytest.mark.parametrize(
    "hexstr",
    [
        "E8070511081E000500",  # truncated
        "E8070511081E00080001",  # day of week 8
        "E8070511081E000500F1",  # reserved adjust-reason bits
        "E8070511081E0005000100",  # trailing byte
    ],
)
def test_bad_current_time(hexstr: str) -> None:
    with pytest.raises(DecodeError):
        decode_current_time(bytes.fromhex(hexstr))


def test_encode_rejects_impossible_date() -> None:
    with pytest.raises(EncodeError, match="no such date"):
        encode_date_time(DateTime(2023, 2, 29, 0, 0, 0))


@settings(deadline=None)  # shared CI box: wall-clock limits flake
@given(gen.date_times())
def test_roundtrip(value: DateTime) -> None:
    assert decode_date_time(encode_date_time(value)) == value


@settings(deadline=None)
@given(
    gen.date_times(),
    st.integers(0, 7),
    st.integers(0, 255),
    st.builds(AdjustReason, st.integers(0, 15)),
)
def test_current_time_roundtrip(
    value: DateTime, day_of_week: int, fractions: int, reason: AdjustReason
) -> None:
    current = CurrentTime(value, day_of_week, fractions, reason)
    assert decode_current_time(encode_current_time(current)) == current
