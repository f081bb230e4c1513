"""Heart Rate Measurement 0x2A37.

``flags u8 | HR u8 or u16 (bit0) | [energy expended u16 kJ] (bit3) | [RR u16 ...] (bit4)``;
bits 1-2 = sensor contact (0/1 not supported, 2 supported but not detected, 3 detected).
RR intervals are in 1/1024 s, as many as the notification holds (0..n).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import Enum

from device_drivers.codecs._binary import Reader, Writer
from device_drivers.quirks import NO_QUIRKS, Quirks
from device_drivers.uuids import HEART_RATE_MEASUREMENT

HR_UINT16 = 0x01
HR_CONTACT_DETECTED = 0x02
HR_CONTACT_SUPPORTED = 0x04
HR_ENERGY = 0x08
HR_RR = 0x10
#: RR interval unit: 1/1024 s.
RR_RESOLUTION_S = 1 / 1024


class SensorContact(Enum):
    NOT_SUPPORTED = "not_supported"
    NOT_DETECTED = "not_detected"
    DETECTED = "detected"


@dataclass(frozen=True, slots=True)
class HeartRateMeasurement:
    """One Heart Rate Measurement as received. ``rr_intervals`` in 1/1024 s units.

    ``flags`` is the byte as received; the encoder takes from it only what the fields
    cannot say: the uint16 format for values <= 255, bit 1 when contact is unsupported,
    and reserved bits 5-7.
    """

    heart_rate: int
    sensor_contact: SensorContact = SensorContact.NOT_SUPPORTED
    energy_expended_kj: int | None = None
    rr_intervals: tuple[int, ...] = ()
    flags: int = 0

    @property
    def rr_intervals_s(self) -> tuple[float, ...]:
        return tuple(rr / 1024 for rr in self.rr_intervals)


def decode_heart_rate(payload: bytes, quirks: Quirks = NO_QUIRKS) -> HeartRateMeasurement:
    """Decode Heart Rate Measurement 0x2A37; raises DecodeError."""
    r = Reader(HEART_RATE_MEASUREMENT, payload)
    flags = r.u8("flags")
    heart_rate = r.u16("heart rate") if flags & HR_UINT16 else r.u8("heart rate")
    if not flags & HR_CONTACT_SUPPORTED:
        contact = SensorContact.NOT_SUPPORTED
    elif flags & HR_CONTACT_DETECTED:
        contact = SensorContact.DETECTED
    else:
        contact = SensorContact.NOT_DETECTED
    energy = r.u16("energy expended") if flags & HR_ENERGY else None
    rr: tuple[int, ...] = ()
    if flags & HR_RR:
        rest = r.rest()
        if len(rest) % 2:
            r.fail(f"RR-interval bytes ({len(rest)}) are not a whole number of uint16")
        rr = struct.unpack(f"<{len(rest) // 2}H", rest)
    r.end()
    return HeartRateMeasurement(heart_rate, contact, energy, rr, flags)


def encode_heart_rate(m: HeartRateMeasurement, quirks: Quirks = NO_QUIRKS) -> bytes:
    """Encode Heart Rate Measurement 0x2A37; raises EncodeError."""
    w = Writer(HEART_RATE_MEASUREMENT)
    flags = m.flags & 0xE0
    if m.heart_rate > 0xFF or m.flags & HR_UINT16:
        flags |= HR_UINT16
    if m.sensor_contact is SensorContact.DETECTED:
        flags |= HR_CONTACT_SUPPORTED | HR_CONTACT_DETECTED
    elif m.sensor_contact is SensorContact.NOT_DETECTED:
        flags |= HR_CONTACT_SUPPORTED
    else:
        flags |= m.flags & HR_CONTACT_DETECTED  # 0b01 also means "not supported"
    if m.energy_expended_kj is not None:
        flags |= HR_ENERGY
    if m.rr_intervals or m.flags & HR_RR:
        flags |= HR_RR
    w.u8(flags, "flags")
    if flags & HR_UINT16:
        w.u16(m.heart_rate, "heart rate")
    else:
        w.u8(m.heart_rate, "heart rate")
    if m.energy_expended_kj is not None:
        w.u16(m.energy_expended_kj, "energy expended")
    for rr in m.rr_intervals:
        w.u16(rr, "RR interval")
    return w.bytes()
