"""Pulse Oximeter service 0x1822: Spot-Check 0x2A5E and Continuous 0x2A5F measurements.

Spot-check: ``flags u8 | SpO2 SFLOAT % | PR SFLOAT bpm | [Date Time] (bit0) |
[measurement status u16] (bit1) | [device & sensor status u24] (bit2) | [PAI SFLOAT %] (bit3)``,
bit4 = device clock not set.
Continuous: ``flags u8 | SpO2 | PR | [SpO2, PR fast] (bit0) | [SpO2, PR slow] (bit1) |
[measurement status u16] (bit2) | [device & sensor status u24] (bit3) | [PAI] (bit4)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntFlag

from device_drivers.codecs._binary import Reader, Writer, cached_flags
from device_drivers.codecs.date_time import DateTime, read_date_time, write_date_time
from device_drivers.codecs.numbers import Mder
from device_drivers.quirks import NO_QUIRKS, Quirks
from device_drivers.uuids import PLX_CONTINUOUS_MEASUREMENT, PLX_SPOT_CHECK_MEASUREMENT


class PlxMeasurementStatus(IntFlag):
    """PLX Measurement Status (bits 0-4 reserved; unknown bits kept)."""

    MEASUREMENT_ONGOING = 1 << 5
    EARLY_ESTIMATED_DATA = 1 << 6
    VALIDATED_DATA = 1 << 7
    FULLY_QUALIFIED_DATA = 1 << 8
    DATA_FROM_STORAGE = 1 << 9
    DATA_FOR_DEMONSTRATION = 1 << 10
    DATA_FOR_TESTING = 1 << 11
    CALIBRATION_ONGOING = 1 << 12
    MEASUREMENT_UNAVAILABLE = 1 << 13
    QUESTIONABLE_MEASUREMENT = 1 << 14
    INVALID_MEASUREMENT = 1 << 15


class PlxDeviceStatus(IntFlag):
    """PLX Device and Sensor Status (24 bit; bits 16-23 reserved; unknown bits kept)."""

    EXTENDED_DISPLAY_UPDATE_ONGOING = 1 << 0
    EQUIPMENT_MALFUNCTION = 1 << 1
    SIGNAL_PROCESSING_IRREGULARITY = 1 << 2
    INADEQUATE_SIGNAL = 1 << 3
    POOR_SIGNAL = 1 << 4
    LOW_PERFUSION = 1 << 5
    ERRATIC_SIGNAL = 1 << 6
    NONPULSATILE_SIGNAL = 1 << 7
    QUESTIONABLE_PULSE = 1 << 8
    SIGNAL_ANALYSIS_ONGOING = 1 << 9
    SENSOR_INTERFERENCE = 1 << 10
    SENSOR_UNCONNECTED = 1 << 11
    UNKNOWN_SENSOR = 1 << 12
    SENSOR_DISPLACED = 1 << 13
    SENSOR_MALFUNCTION = 1 << 14
    SENSOR_DISCONNECTED = 1 << 15


_measurement_status = cached_flags(PlxMeasurementStatus)
_device_status = cached_flags(PlxDeviceStatus)

SPOT_TIMESTAMP = 0x01
SPOT_MEASUREMENT_STATUS = 0x02
SPOT_DEVICE_STATUS = 0x04
SPOT_PAI = 0x08
SPOT_CLOCK_NOT_SET = 0x10

CONT_FAST = 0x01
CONT_SLOW = 0x02
CONT_MEASUREMENT_STATUS = 0x04
CONT_DEVICE_STATUS = 0x08
CONT_PAI = 0x10


@dataclass(frozen=True, slots=True)
class PlxSpotCheck:
    """PLX Spot-Check Measurement as received. ``flags``: the encoder copies only the
    device-clock-not-set bit 4 (also ``clock_not_set``) and reserved bits 5-7 from it."""

    spo2: Mder
    pulse_rate: Mder
    timestamp: DateTime | None = None
    measurement_status: PlxMeasurementStatus | None = None
    device_status: PlxDeviceStatus | None = None
    pulse_amplitude_index: Mder | None = None
    clock_not_set: bool = False
    flags: int = 0


@dataclass(frozen=True, slots=True)
class PlxContinuous:
    """PLX Continuous Measurement as received (reserved flag bits 5-7 kept in ``flags``)."""

    spo2: Mder
    pulse_rate: Mder
    spo2_fast: Mder | None = None
    pulse_rate_fast: Mder | None = None
    spo2_slow: Mder | None = None
    pulse_rate_slow: Mder | None = None
    measurement_status: PlxMeasurementStatus | None = None
    device_status: PlxDeviceStatus | None = None
    pulse_amplitude_index: Mder | None = None
    flags: int = 0


def decode_plx_spot_check(payload: bytes, quirks: Quirks = NO_QUIRKS) -> PlxSpotCheck:
    """Decode PLX Spot-Check Measurement 0x2A5E; raises DecodeError."""
    r = Reader(PLX_SPOT_CHECK_MEASUREMENT, payload)
    flags = r.u8("flags")
    spo2 = r.sfloat("SpO2")
    pulse = r.sfloat("pulse rate")
    timestamp = read_date_time(r) if flags & SPOT_TIMESTAMP else None
    status = None
    if flags & SPOT_MEASUREMENT_STATUS:
        status = _measurement_status(r.u16("measurement status"))
    device = _device_status(r.u24("device status")) if flags & SPOT_DEVICE_STATUS else None
    pai = r.sfloat("pulse amplitude index") if flags & SPOT_PAI else None
    r.end()
    return PlxSpotCheck(
        spo2, pulse, timestamp, status, device, pai, bool(flags & SPOT_CLOCK_NOT_SET), flags
    )


def encode_plx_spot_check(m: PlxSpotCheck, quirks: Quirks = NO_QUIRKS) -> bytes:
    w = Writer(PLX_SPOT_CHECK_MEASUREMENT)
    flags = m.flags & 0xE0
    flags |= SPOT_TIMESTAMP if m.timestamp is not None else 0
    flags |= SPOT_MEASUREMENT_STATUS if m.measurement_status is not None else 0
    flags |= SPOT_DEVICE_STATUS if m.device_status is not None else 0
    flags |= SPOT_PAI if m.pulse_amplitude_index is not None else 0
    flags |= SPOT_CLOCK_NOT_SET if m.clock_not_set else 0
    w.u8(flags, "flags")
    w.sfloat(m.spo2, "SpO2")
    w.sfloat(m.pulse_rate, "pulse rate")
    if m.timestamp is not None:
        write_date_time(w, m.timestamp)
    if m.measurement_status is not None:
        w.u16(int(m.measurement_status), "measurement status")
    if m.device_status is not None:
        w.u24(int(m.device_status), "device status")
    if m.pulse_amplitude_index is not None:
        w.sfloat(m.pulse_amplitude_index, "pulse amplitude index")
    return w.bytes()


def decode_plx_continuous(payload: bytes, quirks: Quirks = NO_QUIRKS) -> PlxContinuous:
    """Decode PLX Continuous Measurement 0x2A5F; raises DecodeError."""
    r = Reader(PLX_CONTINUOUS_MEASUREMENT, payload)
    flags = r.u8("flags")
    spo2 = r.sfloat("SpO2")
    pulse = r.sfloat("pulse rate")
    spo2_fast = pulse_fast = spo2_slow = pulse_slow = None
    if flags & CONT_FAST:
        spo2_fast, pulse_fast = r.sfloat("SpO2 fast"), r.sfloat("pulse rate fast")
    if flags & CONT_SLOW:
        spo2_slow, pulse_slow = r.sfloat("SpO2 slow"), r.sfloat("pulse rate slow")
    status = None
    if flags & CONT_MEASUREMENT_STATUS:
        status = _measurement_status(r.u16("measurement status"))
    device = _device_status(r.u24("device status")) if flags & CONT_DEVICE_STATUS else None
    pai = r.sfloat("pulse amplitude index") if flags & CONT_PAI else None
    r.end()
    return PlxContinuous(
        spo2, pulse, spo2_fast, pulse_fast, spo2_slow, pulse_slow, status, device, pai, flags
    )


def encode_plx_continuous(m: PlxContinuous, quirks: Quirks = NO_QUIRKS) -> bytes:
    w = Writer(PLX_CONTINUOUS_MEASUREMENT)
    fast = m.spo2_fast is not None
    slow = m.spo2_slow is not None
    if fast != (m.pulse_rate_fast is not None) or slow != (m.pulse_rate_slow is not None):
        w.fail("fast/slow SpO2 and pulse rate go together")
    flags = m.flags & 0xE0
    flags |= CONT_FAST if fast else 0
    flags |= CONT_SLOW if slow else 0
    flags |= CONT_MEASUREMENT_STATUS if m.measurement_status is not None else 0
    flags |= CONT_DEVICE_STATUS if m.device_status is not None else 0
    flags |= CONT_PAI if m.pulse_amplitude_index is not None else 0
    w.u8(flags, "flags")
    w.sfloat(m.spo2, "SpO2")
    w.sfloat(m.pulse_rate, "pulse rate")
    if m.spo2_fast is not None and m.pulse_rate_fast is not None:
        w.sfloat(m.spo2_fast, "SpO2 fast")
        w.sfloat(m.pulse_rate_fast, "pulse rate fast")
    if m.spo2_slow is not None and m.pulse_rate_slow is not None:
        w.sfloat(m.spo2_slow, "SpO2 slow")
        w.sfloat(m.pulse_rate_slow, "pulse rate slow")
    if m.measurement_status is not None:
        w.u16(int(m.measurement_status), "measurement status")
    if m.device_status is not None:
        w.u24(int(m.device_status), "device status")
    if m.pulse_amplitude_index is not None:
        w.sfloat(m.pulse_amplitude_index, "pulse amplitude index")
    return w.bytes()
