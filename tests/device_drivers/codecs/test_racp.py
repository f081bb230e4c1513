import pytest
from hypothesis import given, settings

from device_drivers.codecs.date_time import DateTime
from device_drivers.codecs.racp import (
    RacpFilter,
    RacpNumberOfRecords,
    RacpOpCode,
    RacpOperator,
    RacpRequest,
    RacpResponse,
    RacpResponseCode,
    RacpValue,
    abort,
    decode_racp,
    encode_racp,
    report_all,
    report_number_of_all,
    report_since,
)
from device_drivers.errors import DecodeError, EncodeError
from tests.device_drivers.codecs import strategies as gen
from tests.device_drivers.codecs.vectors import RACP

VEC = {v.id: v for v in RACP}


def test_real_accu_chek_exchange() -> None:
    assert decode_racp(VEC["RACP-all"].payload) == report_all()
    assert encode_racp(report_all()) == VEC["RACP-all"].payload
    assert decode_racp(VEC["RACP-since"].payload) == report_since(15)
    assert encode_racp(report_since(15)) == VEC["RACP-since"].payload
    done = decode_racp(VEC["RACP-ok"].payload)
    assert done == RacpResponse(1, RacpResponseCode.SUCCESS) and done.ok
    assert decode_racp(VEC["RACP-none"].payload) == RacpResponse(
        1, RacpResponseCode.NO_RECORDS_FOUND
    )


def test_nordic_vectors() -> None:
    assert decode_racp(VEC["RACP-unsupported"].payload) == RacpResponse(
        0x0C, RacpResponseCode.OP_CODE_NOT_SUPPORTED
    )
    assert decode_racp(VEC["RACP-count"].payload) == RacpNumberOfRecords(258)


def test_helpers() -> None:
    assert encode_racp(abort()) == b"\x03\x00"
    assert encode_racp(report_number_of_all()) == b"\x04\x01"


def test_sloppy_count_widths() -> None:
    assert decode_racp(bytes.fromhex("050007")) == RacpNumberOfRecords(7, 1)
    assert decode_racp(bytes.fromhex("050007000000")) == RacpNumberOfRecords(7, 4)
    assert encode_racp(RacpNumberOfRecords(7, 4)) == bytes.fromhex("050007000000")


def test_time_range_request() -> None:
    request = RacpRequest(
        RacpOpCode.REPORT_STORED_RECORDS,
        RacpOperator.WITHIN_RANGE,
        RacpFilter.USER_FACING_TIME,
        (DateTime(2024, 1, 1, 0, 0, 0), DateTime(2024, 1, 31, 23, 59, 59)),
    )
    payload = encode_racp(request)
    assert payload.hex() == "010402e80701010000" + "00" + "e807011f173b3b"
    assert decode_racp(payload) == request


@pytest.mark.parametrize(
    ("hexstr", "reason"),
    [
        ("", "op code"),
        ("07 00", "op code 0x07 is reserved"),
        ("01 07", "operator 0x07 is reserved"),
        ("01 00", "Null"),
        ("03 01", "abort"),
        ("01 03 03 0F00", "filter type"),
        ("01 03 01 0F", "sequence"),
        ("01 04 01 0100", "operand 2"),
        ("01 01 00", "trailing"),
        ("06 00 01 0A", "response code"),
        ("06 01 01 01", "Null"),
        ("05 00 010203", "record count"),
        ("05 00", "record count"),
    ],
)
def test_malformed(hexstr: str, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        decode_racp(bytes.fromhex(hexstr.replace(" ", "")))


def test_encoder_rejects_inconsistent_requests() -> None:
    with pytest.raises(EncodeError):
        encode_racp(RacpRequest(RacpOpCode.REPORT_STORED_RECORDS, RacpOperator.GREATER_OR_EQUAL))
    with pytest.raises(EncodeError):
        encode_racp(RacpRequest(RacpOpCode.ABORT_OPERATION, RacpOperator.ALL_RECORDS))
    with pytest.raises(EncodeError):
        encode_racp(
            RacpRequest(
                RacpOpCode.REPORT_STORED_RECORDS,
                RacpOperator.LESS_OR_EQUAL,
                RacpFilter.USER_FACING_TIME,
                (5,),
            )
        )


@settings(deadline=None)  # shared CI box: wall-clock limits flake
@given(gen.racp_values())
def test_roundtrip(value: RacpValue) -> None:
    assert decode_racp(encode_racp(value)) == value
