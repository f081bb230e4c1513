"""Record Access Control Point 0x2A52 (Glucose profile): requests and responses.

Request: ``op code u8 | operator u8 | [filter type u8 | value(s)]``. Responses arrive as
indications: ``05 00 <count u16>`` (number of records) or ``06 00 <request op> <code>``.
Filter types: 0x01 sequence number (uint16), 0x02 user facing time (Date Time).
CGM's time-offset filter is not covered.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import TypeVar

from device_drivers.codecs._binary import Reader, Writer
from device_drivers.codecs.date_time import DateTime, read_date_time, write_date_time
from device_drivers.quirks import NO_QUIRKS, Quirks
from device_drivers.uuids import RECORD_ACCESS_CONTROL_POINT as RACP


class RacpOpCode(IntEnum):
    REPORT_STORED_RECORDS = 0x01
    DELETE_STORED_RECORDS = 0x02
    ABORT_OPERATION = 0x03
    REPORT_NUMBER_OF_RECORDS = 0x04
    NUMBER_OF_RECORDS_RESPONSE = 0x05
    RESPONSE_CODE = 0x06


class RacpOperator(IntEnum):
    NULL = 0x00
    ALL_RECORDS = 0x01
    LESS_OR_EQUAL = 0x02
    GREATER_OR_EQUAL = 0x03
    WITHIN_RANGE = 0x04
    FIRST_RECORD = 0x05
    LAST_RECORD = 0x06


class RacpFilter(IntEnum):
    SEQUENCE_NUMBER = 0x01
    USER_FACING_TIME = 0x02


class RacpResponseCode(IntEnum):
    SUCCESS = 0x01
    OP_CODE_NOT_SUPPORTED = 0x02
    INVALID_OPERATOR = 0x03
    OPERATOR_NOT_SUPPORTED = 0x04
    INVALID_OPERAND = 0x05
    NO_RECORDS_FOUND = 0x06
    ABORT_UNSUCCESSFUL = 0x07
    PROCEDURE_NOT_COMPLETED = 0x08
    OPERAND_NOT_SUPPORTED = 0x09


_RECORD_OPS = {
    RacpOpCode.REPORT_STORED_RECORDS,
    RacpOpCode.DELETE_STORED_RECORDS,
    RacpOpCode.REPORT_NUMBER_OF_RECORDS,
}
_OPERAND_COUNT = {
    RacpOperator.LESS_OR_EQUAL: 1,
    RacpOperator.GREATER_OR_EQUAL: 1,
    RacpOperator.WITHIN_RANGE: 2,
}

Operand = int | DateTime
E = TypeVar("E", bound=IntEnum)


@dataclass(frozen=True, slots=True)
class RacpRequest:
    """A request the collector writes. ``operand`` holds 1 (<=, >=) or 2 (range) values:
    sequence numbers (int) or user facing times (DateTime), per ``filter_type``."""

    op_code: RacpOpCode
    operator: RacpOperator
    filter_type: RacpFilter | None = None
    operand: tuple[Operand, ...] = ()


@dataclass(frozen=True, slots=True)
class RacpNumberOfRecords:
    count: int
    #: Width of the count field as sent (2 per spec; 1 or 4 from sloppy firmware).
    width: int = 2


@dataclass(frozen=True, slots=True)
class RacpResponse:
    request_op_code: int
    code: RacpResponseCode

    @property
    def ok(self) -> bool:
        return self.code is RacpResponseCode.SUCCESS


RacpValue = RacpRequest | RacpNumberOfRecords | RacpResponse


def report_all() -> RacpRequest:
    return RacpRequest(RacpOpCode.REPORT_STORED_RECORDS, RacpOperator.ALL_RECORDS)


def report_since(sequence: int) -> RacpRequest:
    """Records with sequence number >= ``sequence`` (incremental sync)."""
    return RacpRequest(
        RacpOpCode.REPORT_STORED_RECORDS,
        RacpOperator.GREATER_OR_EQUAL,
        RacpFilter.SEQUENCE_NUMBER,
        (sequence,),
    )


def report_number_of_all() -> RacpRequest:
    return RacpRequest(RacpOpCode.REPORT_NUMBER_OF_RECORDS, RacpOperator.ALL_RECORDS)


def abort() -> RacpRequest:
    return RacpRequest(RacpOpCode.ABORT_OPERATION, RacpOperator.NULL)


def _enum(r: Reader, enum: type[E], value: int, what: str) -> E:
    try:
        return enum(value)
    except ValueError:
        r.fail(f"{what} {value:#04x} is reserved")


def decode_racp(payload: bytes, quirks: Quirks = NO_QUIRKS) -> RacpValue:
    """Decode any RACP value (request or response); raises DecodeError."""
    r = Reader(RACP, payload)
    op = _enum(r, RacpOpCode, r.u8("op code"), "op code")
    operator = _enum(r, RacpOperator, r.u8("operator"), "operator")
    value: RacpValue
    if op is RacpOpCode.NUMBER_OF_RECORDS_RESPONSE:
        if operator is not RacpOperator.NULL:
            r.fail("number-of-records response must use the Null operator")
        width = r.remaining
        if width not in (1, 2, 4):
            r.fail(f"record count of {width} bytes (expected 2; 1 or 4 tolerated)")
        value = RacpNumberOfRecords(int.from_bytes(r.rest(), "little"), width)
    elif op is RacpOpCode.RESPONSE_CODE:
        if operator is not RacpOperator.NULL:
            r.fail("response code must use the Null operator")
        request_op = r.u8("request op code")
        code = _enum(r, RacpResponseCode, r.u8("response code"), "response code")
        value = RacpResponse(request_op, code)
    elif op is RacpOpCode.ABORT_OPERATION:
        if operator is not RacpOperator.NULL:
            r.fail("abort must use the Null operator")
        value = RacpRequest(op, operator)
    else:
        if operator is RacpOperator.NULL:
            r.fail(f"{op.name} needs an operator other than Null")
        count = _OPERAND_COUNT.get(operator, 0)
        if count == 0:
            value = RacpRequest(op, operator)
        else:
            filter_type = _enum(r, RacpFilter, r.u8("filter type"), "filter type")
            operand: list[Operand] = []
            for i in range(count):
                if filter_type is RacpFilter.SEQUENCE_NUMBER:
                    operand.append(r.u16(f"sequence number operand {i + 1}"))
                else:
                    operand.append(read_date_time(r, f"time operand {i + 1}"))
            value = RacpRequest(op, operator, filter_type, tuple(operand))
    r.end()
    return value


def encode_racp(value: RacpValue, quirks: Quirks = NO_QUIRKS) -> bytes:
    """Encode a RACP request or response; raises EncodeError."""
    w = Writer(RACP)
    if isinstance(value, RacpNumberOfRecords):
        w.u8(RacpOpCode.NUMBER_OF_RECORDS_RESPONSE, "op code")
        w.u8(RacpOperator.NULL, "operator")
        if value.width not in (1, 2, 4):
            w.fail("count width must be 1, 2 or 4")
        w.uint(value.count, value.width, "count")
        return w.bytes()
    if isinstance(value, RacpResponse):
        w.u8(RacpOpCode.RESPONSE_CODE, "op code")
        w.u8(RacpOperator.NULL, "operator")
        w.u8(value.request_op_code, "request op code")
        w.u8(value.code, "response code")
        return w.bytes()
    op, operator = value.op_code, value.operator
    if op not in _RECORD_OPS and op is not RacpOpCode.ABORT_OPERATION:
        w.fail(f"{op.name} is a response, not a request")
    if (op is RacpOpCode.ABORT_OPERATION) != (operator is RacpOperator.NULL):
        w.fail(f"{op.name} cannot use operator {operator.name}")
    count = _OPERAND_COUNT.get(operator, 0)
    if len(value.operand) != count or (count > 0) != (value.filter_type is not None):
        w.fail(f"operator {operator.name} takes {count} operand(s) with a filter type")
    w.u8(op, "op code")
    w.u8(operator, "operator")
    if value.filter_type is not None:
        w.u8(value.filter_type, "filter type")
        for item in value.operand:
            if value.filter_type is RacpFilter.SEQUENCE_NUMBER and isinstance(item, int):
                w.u16(item, "sequence number operand")
            elif value.filter_type is RacpFilter.USER_FACING_TIME and isinstance(item, DateTime):
                write_date_time(w, item, "time operand")
            else:
                w.fail(f"operand {item!r} does not match filter {value.filter_type.name}")
    return w.bytes()
