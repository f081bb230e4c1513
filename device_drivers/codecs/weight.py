"""Weight Measurement 0x2A9D (Weight Scale service 0x181D).

``flags u8 | weight u16 | [Date Time] (bit1) | [user id u8] (bit2) | [BMI u16, height u16]
(bit3)``; bit0 = imperial units. Resolutions: weight 0.005 kg or 0.01 lb, BMI 0.1 kg/m²,
height 0.001 m or 0.1 in. Weight 0xFFFF = "measurement unsuccessful".
Layout from the Bluetooth Weight Scale Service spec (not in the research file; no real
capture checked yet).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from device_drivers.codecs._binary import Reader, Writer
from device_drivers.codecs.date_time import DateTime, read_date_time, write_date_time
from device_drivers.codecs.numbers import MderSpecial
from device_drivers.quirks import NO_QUIRKS, Quirks
from device_drivers.uuids import WEIGHT_MEASUREMENT

WEIGHT_IMPERIAL = 0x01
WEIGHT_TIMESTAMP = 0x02
WEIGHT_USER_ID = 0x04
WEIGHT_BMI_HEIGHT = 0x08
#: Raw weight meaning "measurement unsuccessful".
WEIGHT_UNSUCCESSFUL = 0xFFFF

_KG_STEP = Decimal("0.005")
_LB_STEP = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class WeightMeasurement:
    """Weight Measurement as received; raw integer fields in the characteristic's steps."""

    imperial: bool
    weight_raw: int
    timestamp: DateTime | None = None
    user_id: int | None = None
    bmi_raw: int | None = None
    height_raw: int | None = None
    flags: int = 0

    @property
    def weight(self) -> float | MderSpecial:
        """kg (SI) or lb (imperial); NaN special value when the scale reports failure."""
        if self.weight_raw == WEIGHT_UNSUCCESSFUL:
            return MderSpecial.NAN
        return float(self.weight_raw * (_LB_STEP if self.imperial else _KG_STEP))

    @property
    def bmi(self) -> float | None:
        return None if self.bmi_raw is None else self.bmi_raw / 10

    @property
    def height(self) -> float | None:
        """Metres (SI) or inches (imperial)."""
        if self.height_raw is None:
            return None
        return self.height_raw / 10 if self.imperial else self.height_raw / 1000

    @classmethod
    def of(cls, weight: float, *, imperial: bool = False, **fields: object) -> WeightMeasurement:
        """Build from a weight in kg (or lb), rounded to the characteristic's step."""
        step = _LB_STEP if imperial else _KG_STEP
        raw = int((Decimal(str(weight)) / step).to_integral_value())
        return cls(imperial, raw, **fields)  # type: ignore[arg-type]


def decode_weight(payload: bytes, quirks: Quirks = NO_QUIRKS) -> WeightMeasurement:
    """Decode Weight Measurement 0x2A9D; raises DecodeError."""
    r = Reader(WEIGHT_MEASUREMENT, payload)
    flags = r.u8("flags")
    weight = r.u16("weight")
    timestamp = read_date_time(r) if flags & WEIGHT_TIMESTAMP else None
    user_id = r.u8("user id") if flags & WEIGHT_USER_ID else None
    bmi = height = None
    if flags & WEIGHT_BMI_HEIGHT:
        bmi, height = r.u16("BMI"), r.u16("height")
    r.end()
    return WeightMeasurement(
        bool(flags & WEIGHT_IMPERIAL), weight, timestamp, user_id, bmi, height, flags
    )


def encode_weight(m: WeightMeasurement, quirks: Quirks = NO_QUIRKS) -> bytes:
    """Encode Weight Measurement 0x2A9D; raises EncodeError."""
    w = Writer(WEIGHT_MEASUREMENT)
    if (m.bmi_raw is None) != (m.height_raw is None):
        w.fail("BMI and height go together")
    flags = m.flags & 0xF0
    flags |= WEIGHT_IMPERIAL if m.imperial else 0
    flags |= WEIGHT_TIMESTAMP if m.timestamp is not None else 0
    flags |= WEIGHT_USER_ID if m.user_id is not None else 0
    flags |= WEIGHT_BMI_HEIGHT if m.bmi_raw is not None else 0
    w.u8(flags, "flags")
    w.u16(m.weight_raw, "weight")
    if m.timestamp is not None:
        write_date_time(w, m.timestamp)
    if m.user_id is not None:
        w.u8(m.user_id, "user id")
    if m.bmi_raw is not None and m.height_raw is not None:
        w.u16(m.bmi_raw, "BMI")
        w.u16(m.height_raw, "height")
    return w.bytes()
