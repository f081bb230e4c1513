"""Blood Pressure service 0x1810: Measurement 0x2A35, Intermediate Cuff Pressure 0x2A36,
Feature 0x2A49.

Layout (0x2A35 and 0x2A36 alike): ``flags u8 | systolic, diastolic, MAP SFLOAT |
[Date Time 7] (bit1) | [pulse SFLOAT] (bit2) | [user id u8] (bit3) | [status u16] (bit4)``;
bit0 = unit kPa (else mmHg), bits 5-7 reserved (ignored, kept for byte-exact re-encoding).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, IntFlag

from device_drivers.codecs._binary import Reader, Writer, cached_flags
from device_drivers.codecs.date_time import DateTime, read_date_time, write_date_time
from device_drivers.codecs.numbers import Mder, MderFloat, MderSpecial
from device_drivers.quirks import NO_QUIRKS, Quirks
from device_drivers.uuids import (
    BLOOD_PRESSURE_FEATURE,
    BLOOD_PRESSURE_MEASUREMENT,
    INTERMEDIATE_CUFF_PRESSURE,
)
from vitals.units import PressureUnit


class BpFlag:
    """Flags bits (plain ints: enum arithmetic is too slow for the decode hot path)."""

    KPA = 0x01
    TIME_STAMP = 0x02
    PULSE_RATE = 0x04
    USER_ID = 0x08
    MEASUREMENT_STATUS = 0x10


#: Flag bits the specification reserves; receivers ignore them (the Beurer BM85 sets bit 6).
BP_RFU_FLAGS = 0xE0
#: User ID value meaning "unknown user".
UNKNOWN_USER = 0xFF


class PulseRateRange(Enum):
    WITHIN_RANGE = 0
    EXCEEDS_UPPER_LIMIT = 1
    BELOW_LOWER_LIMIT = 2
    RESERVED = 3


@dataclass(frozen=True, slots=True)
class BpMeasurementStatus:
    """Measurement Status bits (uint16), kept raw; properties name the defined bits."""

    raw: int

    @property
    def body_movement(self) -> bool:
        return bool(self.raw & 0x0001)

    @property
    def cuff_too_loose(self) -> bool:
        return bool(self.raw & 0x0002)

    @property
    def irregular_pulse(self) -> bool:
        return bool(self.raw & 0x0004)

    @property
    def pulse_rate_range(self) -> PulseRateRange:
        return PulseRateRange((self.raw >> 3) & 0x3)

    @property
    def improper_position(self) -> bool:
        return bool(self.raw & 0x0020)

    @property
    def reserved_bits(self) -> int:
        """Bits 6-15 (RFU); non-zero on some models (a Beurer BM85 record had 0x0040)."""
        return self.raw & 0xFFC0


@dataclass(frozen=True, slots=True)
class BloodPressureMeasurement:
    """One Blood Pressure Measurement (0x2A35) as received.

    ``flags`` is the flags byte as received; the encoder derives the presence bits from
    the optional fields and copies only the reserved bits 5-7 (and, under the
    ``bp_user_id_always_present`` quirk, bit 3) from it.
    """

    unit: PressureUnit
    systolic: Mder
    diastolic: Mder
    mean_arterial: Mder
    timestamp: DateTime | None = None
    pulse_rate: Mder | None = None
    user_id: int | None = None
    status: BpMeasurementStatus | None = None
    flags: int = 0


@dataclass(frozen=True, slots=True)
class IntermediateCuffPressure(BloodPressureMeasurement):
    """Intermediate Cuff Pressure (0x2A36): a live value during inflation, not a result.
    ``systolic`` holds the current cuff pressure; diastolic and MAP are normally NaN."""

    @property
    def cuff_pressure(self) -> Mder:
        return self.systolic


def _read(
    reader: Reader, quirks: Quirks, cls: type[BloodPressureMeasurement]
) -> BloodPressureMeasurement:
    big = quirks.bp_big_endian_pulse_status
    flags = reader.u8("flags")
    unit = PressureUnit.KPA if flags & BpFlag.KPA else PressureUnit.MMHG
    systolic = reader.sfloat("systolic")
    diastolic = reader.sfloat("diastolic")
    mean_arterial = reader.sfloat("mean arterial pressure")
    timestamp = read_date_time(reader) if flags & BpFlag.TIME_STAMP else None
    pulse = reader.sfloat("pulse rate", big_endian=big) if flags & BpFlag.PULSE_RATE else None
    user_id = None
    if flags & BpFlag.USER_ID or quirks.bp_user_id_always_present:
        user_id = reader.u8("user id")
    status = None
    if flags & BpFlag.MEASUREMENT_STATUS:
        status = BpMeasurementStatus(reader.u16("measurement status", big_endian=big))
    reader.end()
    if (
        quirks.bp_zero_mean_arterial_is_absent
        and isinstance(mean_arterial, MderFloat)
        and mean_arterial.mantissa == 0
    ):
        mean_arterial = MderSpecial.NAN
    return cls(unit, systolic, diastolic, mean_arterial, timestamp, pulse, user_id, status, flags)


def decode_bp_measurement(payload: bytes, quirks: Quirks = NO_QUIRKS) -> BloodPressureMeasurement:
    """Decode Blood Pressure Measurement 0x2A35; raises DecodeError."""
    return _read(Reader(BLOOD_PRESSURE_MEASUREMENT, payload), quirks, BloodPressureMeasurement)


def decode_intermediate_cuff_pressure(
    payload: bytes, quirks: Quirks = NO_QUIRKS
) -> IntermediateCuffPressure:
    """Decode Intermediate Cuff Pressure 0x2A36; raises DecodeError."""
    m = _read(Reader(INTERMEDIATE_CUFF_PRESSURE, payload), quirks, IntermediateCuffPressure)
    assert isinstance(m, IntermediateCuffPressure)
    return m


def _write(uuid: str, m: BloodPressureMeasurement, quirks: Quirks) -> bytes:
    writer = Writer(uuid)
    big = quirks.bp_big_endian_pulse_status
    flags = m.flags & BP_RFU_FLAGS
    if m.unit is PressureUnit.KPA:
        flags |= BpFlag.KPA
    if m.timestamp is not None:
        flags |= BpFlag.TIME_STAMP
    if m.pulse_rate is not None:
        flags |= BpFlag.PULSE_RATE
    if quirks.bp_user_id_always_present:
        if m.user_id is None:
            writer.fail(f"quirk profile {quirks.name!r} always sends a user id; user_id is None")
        flags |= m.flags & BpFlag.USER_ID
    elif m.user_id is not None:
        flags |= BpFlag.USER_ID
    if m.status is not None:
        flags |= BpFlag.MEASUREMENT_STATUS
    writer.u8(flags, "flags")
    writer.sfloat(m.systolic, "systolic")
    writer.sfloat(m.diastolic, "diastolic")
    mean_arterial = m.mean_arterial
    if quirks.bp_zero_mean_arterial_is_absent and mean_arterial is MderSpecial.NAN:
        mean_arterial = MderFloat(0, 0)
    writer.sfloat(mean_arterial, "mean arterial pressure")
    if m.timestamp is not None:
        write_date_time(writer, m.timestamp)
    if m.pulse_rate is not None:
        writer.sfloat(m.pulse_rate, "pulse rate", big_endian=big)
    if m.user_id is not None:
        writer.u8(m.user_id, "user id")
    if m.status is not None:
        writer.u16(m.status.raw, "measurement status", big_endian=big)
    return writer.bytes()


def encode_bp_measurement(m: BloodPressureMeasurement, quirks: Quirks = NO_QUIRKS) -> bytes:
    """Encode Blood Pressure Measurement 0x2A35 (inverse of the decoder); raises EncodeError."""
    return _write(BLOOD_PRESSURE_MEASUREMENT, m, quirks)


def encode_intermediate_cuff_pressure(
    m: BloodPressureMeasurement, quirks: Quirks = NO_QUIRKS
) -> bytes:
    """Encode Intermediate Cuff Pressure 0x2A36; raises EncodeError."""
    return _write(INTERMEDIATE_CUFF_PRESSURE, m, quirks)


class BpFeature(IntFlag):
    """Blood Pressure Feature 0x2A49 bits (BLS 1.0; unknown bits are kept)."""

    BODY_MOVEMENT_DETECTION = 0x0001
    CUFF_FIT_DETECTION = 0x0002
    IRREGULAR_PULSE_DETECTION = 0x0004
    PULSE_RATE_RANGE_DETECTION = 0x0008
    MEASUREMENT_POSITION_DETECTION = 0x0010
    MULTIPLE_BOND = 0x0020


_bp_feature = cached_flags(BpFeature)


def decode_bp_feature(payload: bytes, quirks: Quirks = NO_QUIRKS) -> BpFeature:
    reader = Reader(BLOOD_PRESSURE_FEATURE, payload)
    value = _bp_feature(reader.u16("feature bits"))
    reader.end()
    return value


def encode_bp_feature(value: BpFeature, quirks: Quirks = NO_QUIRKS) -> bytes:
    writer = Writer(BLOOD_PRESSURE_FEATURE)
    writer.u16(int(value), "feature bits")
    return writer.bytes()
