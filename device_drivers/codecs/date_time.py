"""Date Time 0x2A08, Day Date Time and Current Time 0x2A2B.

Device clocks are local wall-clock time with no zone; 0 in year/month/day means
"unknown". Values are kept as received (:class:`DateTime`); turning them into an
instant is the mapping layer's job (``device_drivers.readings``), using the gateway's
measured clock offset.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import IntFlag

from device_drivers.codecs._binary import Reader, Writer
from device_drivers.uuids import CURRENT_TIME, DATE_TIME

DATE_TIME_SIZE = 7


@dataclass(frozen=True, slots=True)
class DateTime:
    """A device wall-clock time. year/month/day 0 = unknown."""

    year: int
    month: int
    day: int
    hours: int
    minutes: int
    seconds: int

    @property
    def is_complete(self) -> bool:
        return self.year != 0 and self.month != 0 and self.day != 0

    def to_naive(self) -> dt.datetime | None:
        """The wall-clock time without zone, or None when the date is (partly) unknown."""
        if not self.is_complete:
            return None
        return dt.datetime(self.year, self.month, self.day, self.hours, self.minutes, self.seconds)

    def isoformat(self) -> str:
        """ISO-like text as received, unknown parts as zeros (kept as raw device time)."""
        return (
            f"{self.year:04d}-{self.month:02d}-{self.day:02d}"
            f"T{self.hours:02d}:{self.minutes:02d}:{self.seconds:02d}"
        )

    @classmethod
    def from_datetime(cls, value: dt.datetime) -> DateTime:
        return cls(value.year, value.month, value.day, value.hour, value.minute, value.second)


def _problem(year: int, month: int, day: int, hours: int, minutes: int, seconds: int) -> str:
    """Why these fields are not a Date Time ('' when they are one)."""
    if year != 0 and not 1582 <= year <= 9999:
        return f"year {year} outside 1582..9999 (0 = unknown)"
    if month > 12 or day > 31 or hours > 23 or minutes > 59 or seconds > 59:
        return (
            f"impossible time {year:04d}-{month:02d}-{day:02d} "
            f"{hours:02d}:{minutes:02d}:{seconds:02d}"
        )
    if day > 28 and year and month:  # only then can a known date not exist
        try:
            dt.date(year, month, day)
        except ValueError:
            return f"no such date {year:04d}-{month:02d}-{day:02d}"
    return ""


def read_date_time(reader: Reader, what: str = "time stamp") -> DateTime:
    """Read and validate 7 Date Time bytes at the reader's position."""
    raw = reader.raw(DATE_TIME_SIZE, what)
    year = raw[0] | raw[1] << 8
    month, day, hours, minutes, seconds = raw[2], raw[3], raw[4], raw[5], raw[6]
    problem = _problem(year, month, day, hours, minutes, seconds)
    if problem:
        reader.fail(f"{what}: {problem}")
    return DateTime(year, month, day, hours, minutes, seconds)


def write_date_time(writer: Writer, value: DateTime, what: str = "time stamp") -> None:
    """Write 7 Date Time bytes; a value the decoder would reject raises EncodeError."""
    v = value
    problem = _problem(v.year, v.month, v.day, v.hours, v.minutes, v.seconds)
    if problem or v.month < 0 or v.day < 0 or v.hours < 0 or v.minutes < 0 or v.seconds < 0:
        writer.fail(f"{what}: {problem or 'negative field'}")
    writer.u16(v.year, f"{what}.year")
    writer.raw(bytes((v.month, v.day, v.hours, v.minutes, v.seconds)))


def decode_date_time(payload: bytes) -> DateTime:
    """Date Time characteristic 0x2A08 (7 bytes)."""
    reader = Reader(DATE_TIME, payload)
    value = read_date_time(reader, "date time")
    reader.end()
    return value


def encode_date_time(value: DateTime) -> bytes:
    writer = Writer(DATE_TIME)
    write_date_time(writer, value, "date time")
    return writer.bytes()


class AdjustReason(IntFlag):
    MANUAL_TIME_UPDATE = 0x01
    EXTERNAL_REFERENCE_TIME_UPDATE = 0x02
    TIME_ZONE_CHANGE = 0x04
    DST_CHANGE = 0x08


@dataclass(frozen=True, slots=True)
class CurrentTime:
    """Current Time 0x2A2B: Day Date Time + fractions (1/256 s) + adjust reason."""

    date_time: DateTime
    day_of_week: int  # 1 = Monday .. 7 = Sunday, 0 = unknown
    fractions256: int
    adjust_reason: AdjustReason


def decode_current_time(payload: bytes) -> CurrentTime:
    reader = Reader(CURRENT_TIME, payload)
    date_time = read_date_time(reader, "exact time")
    day_of_week = reader.u8("day of week")
    if day_of_week > 7:
        reader.fail(f"day of week {day_of_week} outside 0..7")
    fractions = reader.u8("fractions256")
    reason = reader.u8("adjust reason")
    if reason & 0xF0:
        reader.fail(f"adjust reason {reason:#04x} sets reserved bits 4-7")
    reader.end()
    return CurrentTime(date_time, day_of_week, fractions, AdjustReason(reason))


def encode_current_time(value: CurrentTime) -> bytes:
    writer = Writer(CURRENT_TIME)
    write_date_time(writer, value.date_time, "exact time")
    writer.u8(value.day_of_week, "day of week")
    writer.u8(value.fractions256, "fractions256")
    writer.u8(int(value.adjust_reason), "adjust reason")
    return writer.bytes()
