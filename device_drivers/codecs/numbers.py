"""IEEE 11073-20601 medical floats: 16-bit SFLOAT and 32-bit FLOAT.

value = mantissa x 10^exponent, both two's complement (SFLOAT: 4-bit exponent, 12-bit
mantissa; FLOAT: 8-bit exponent, 24-bit mantissa). The exponent carries the device's
precision, so a value is kept as (mantissa, exponent) — ``20 x 10^-1`` ("2.0") and
``2 x 10^0`` ("2") encode differently and both round-trip byte-exactly.

Five raw patterns (all with exponent 0) are not numbers: NaN, NRes, +INF, -INF and a
reserved one. They decode to :class:`MderSpecial`, never to a float — a naive decoder
would turn NaN 0x07FF into "2047 mmHg".
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum


class MderSpecial(Enum):
    """The non-numeric values of SFLOAT/FLOAT. Callers must handle them explicitly."""

    NAN = "NaN"  # invalid result / not present
    NRES = "NRes"  # not at this resolution
    POSITIVE_INFINITY = "+INF"  # above the device's range ("HI")
    NEGATIVE_INFINITY = "-INF"  # below the device's range ("LO")
    RESERVED = "reserved"  # reserved for future use: never valid data


@dataclass(frozen=True, slots=True)
class MderFloat:
    """A finite medical float. Equality is representational (20e-1 != 2e0)."""

    mantissa: int
    exponent: int

    @property
    def value(self) -> float:
        scale: int = 10 ** abs(self.exponent)
        if self.exponent >= 0:
            return float(self.mantissa * scale)
        # Division by an exact power of ten is correctly rounded (189 / 10 == 18.9),
        # unlike multiplication by the inexact 0.1.
        return self.mantissa / scale

    def __float__(self) -> float:
        return self.value

    def as_decimal(self) -> Decimal:
        return Decimal(self.mantissa).scaleb(self.exponent)

    @classmethod
    def of(cls, value: float | int | str | Decimal, decimals: int | None = None) -> MderFloat:
        """Build from a number. ``decimals`` fixes the precision (``of(18.9, 1)`` ->
        189e-1); without it the shortest exact decimal form of ``value`` is used."""
        number = Decimal(str(value)) if not isinstance(value, Decimal) else value
        if not number.is_finite():
            raise ValueError(f"not a finite number: {value!r}")
        if decimals is not None:
            number = number.quantize(Decimal(1).scaleb(-decimals))
            return cls(int(number.scaleb(decimals)), -decimals)
        sign, digits, exponent = number.normalize().as_tuple()
        mantissa = int("".join(map(str, digits)) or "0")
        assert isinstance(exponent, int)
        return cls(-mantissa if sign else mantissa, exponent)

    def __str__(self) -> str:
        return str(self.as_decimal())


#: A decoded medical float: a finite number or a special value.
Mder = MderFloat | MderSpecial

_SFLOAT_SPECIAL = {
    0x07FF: MderSpecial.NAN,
    0x0800: MderSpecial.NRES,
    0x07FE: MderSpecial.POSITIVE_INFINITY,
    0x0802: MderSpecial.NEGATIVE_INFINITY,
    0x0801: MderSpecial.RESERVED,
}
_SFLOAT_RAW = {special: raw for raw, special in _SFLOAT_SPECIAL.items()}

_FLOAT_SPECIAL = {
    0x007FFFFF: MderSpecial.NAN,
    0x00800000: MderSpecial.NRES,
    0x007FFFFE: MderSpecial.POSITIVE_INFINITY,
    0x00800002: MderSpecial.NEGATIVE_INFINITY,
    0x00800001: MderSpecial.RESERVED,
}
_FLOAT_RAW = {special: raw for raw, special in _FLOAT_SPECIAL.items()}


def _decode_sfloat(raw: int) -> Mder:
    special = _SFLOAT_SPECIAL.get(raw)
    if special is not None:
        return special
    mantissa = raw & 0x0FFF
    if mantissa >= 0x0800:
        mantissa -= 0x1000
    exponent = raw >> 12
    if exponent >= 0x8:
        exponent -= 0x10
    return MderFloat(mantissa, exponent)


# Decoded SFLOATs are immutable, so each of the 65 536 raw values is decoded once and
# shared (bounded memoisation; decoding is then one dict lookup).
_SFLOAT_CACHE: dict[int, Mder] = {}


def decode_sfloat(raw: int) -> Mder:
    """Decode a 16-bit SFLOAT given as an unsigned integer (already byte-ordered)."""
    value = _SFLOAT_CACHE.get(raw)
    if value is None:
        if not 0 <= raw <= 0xFFFF:
            raise ValueError(f"not a 16-bit value: {raw}")
        value = _SFLOAT_CACHE[raw] = _decode_sfloat(raw)
    return value


def encode_sfloat(value: Mder) -> int:
    """Inverse of :func:`decode_sfloat`; ``ValueError`` if the number does not fit."""
    if isinstance(value, MderSpecial):
        return _SFLOAT_RAW[value]
    mantissa, exponent = value.mantissa, value.exponent
    if not (-2048 <= mantissa <= 2047 and -8 <= exponent <= 7):
        raise ValueError(f"{value} does not fit an SFLOAT (mantissa 12 bit, exponent 4 bit)")
    raw = ((exponent & 0xF) << 12) | (mantissa & 0x0FFF)
    if raw in _SFLOAT_SPECIAL:
        raise ValueError(f"{value} collides with the special SFLOAT {raw:#06x}")
    return raw


def decode_float32(raw: int) -> Mder:
    """Decode a 32-bit FLOAT given as an unsigned integer."""
    special = _FLOAT_SPECIAL.get(raw)
    if special is not None:
        return special
    mantissa = raw & 0x00FFFFFF
    if mantissa >= 0x00800000:
        mantissa -= 0x01000000
    exponent = raw >> 24
    if exponent >= 0x80:
        exponent -= 0x100
    return MderFloat(mantissa, exponent)


def encode_float32(value: Mder) -> int:
    """Inverse of :func:`decode_float32`; ``ValueError`` if the number does not fit."""
    if isinstance(value, MderSpecial):
        return _FLOAT_RAW[value]
    mantissa, exponent = value.mantissa, value.exponent
    if not (-(2**23) <= mantissa < 2**23 and -128 <= exponent <= 127):
        raise ValueError(f"{value} does not fit a FLOAT (mantissa 24 bit, exponent 8 bit)")
    raw = ((exponent & 0xFF) << 24) | (mantissa & 0x00FFFFFF)
    if raw in _FLOAT_SPECIAL:
        raise ValueError(f"{value} collides with the special FLOAT {raw:#010x}")
    return raw


def sfloat(value: float | int | str | Decimal, decimals: int | None = None) -> MderFloat:
    """Shorthand for :meth:`MderFloat.of`, checked to fit an SFLOAT."""
    number = MderFloat.of(value, decimals)
    encode_sfloat(number)
    return number
