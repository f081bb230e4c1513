from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from device_drivers.codecs.numbers import (
    MderFloat,
    MderSpecial,
    decode_float32,
    decode_sfloat,
    encode_float32,
    encode_sfloat,
    sfloat,
)


@pytest.mark.parametrize(
    ("raw", "mantissa", "exponent", "value"),
    [  # HL7/phd MderFLOATsandSFLOATs examples (ble.md 1.1)
        (0x0002, 2, 0, 2.0),
        (0xF014, 20, -1, 2.0),
        (0xE0C8, 200, -2, 2.0),
        (0x1002, 2, 1, 20.0),
        (0x2002, 2, 2, 200.0),
        (0x04D2, 1234, 0, 1234.0),
        (0x0B2E, -1234, 0, -1234.0),
        (0xF0BD, 189, -1, 18.9),
        (0xB058, 88, -5, 0.00088),
    ],
)
def test_sfloat_examples(raw: int, mantissa: int, exponent: int, value: float) -> None:
    decoded = decode_sfloat(raw)
    assert decoded == MderFloat(mantissa, exponent)
    assert isinstance(decoded, MderFloat)
    assert decoded.value == pytest.approx(value, rel=1e-12)
    assert encode_sfloat(decoded) == raw


def test_precision_is_kept() -> None:
    assert str(decode_sfloat(0xF014)) == "2.0"
    assert str(decode_sfloat(0x0002)) == "2"
    assert decode_sfloat(0xF0BD).value == 18.9  # exact division, not 189 * 0.1


@pytest.mark.parametrize(
    ("raw", "special"),
    [
        (0x07FF, MderSpecial.NAN),
        (0x0800, MderSpecial.NRES),
        (0x07FE, MderSpecial.POSITIVE_INFINITY),
        (0x0802, MderSpecial.NEGATIVE_INFINITY),
        (0x0801, MderSpecial.RESERVED),
    ],
)
def test_sfloat_specials_never_numbers(raw: int, special: MderSpecial) -> None:
    assert decode_sfloat(raw) is special
    assert encode_sfloat(special) == raw


@pytest.mark.parametrize(
    ("raw", "special"),
    [
        (0x007FFFFF, MderSpecial.NAN),
        (0x00800000, MderSpecial.NRES),
        (0x007FFFFE, MderSpecial.POSITIVE_INFINITY),
        (0x00800002, MderSpecial.NEGATIVE_INFINITY),
        (0x00800001, MderSpecial.RESERVED),
    ],
)
def test_float_specials(raw: int, special: MderSpecial) -> None:
    assert decode_float32(raw) is special
    assert encode_float32(special) == raw


def test_float_examples() -> None:
    assert decode_float32(0xFF000014) == MderFloat(20, -1)
    assert decode_float32(0x00FFFB2E) == MderFloat(-1234, 0)


def test_nonzero_exponent_with_special_mantissa_is_a_number() -> None:
    # Specials are defined with exponent 0 only; 0xF7FF = 2047 x 10^-1.
    assert decode_sfloat(0xF7FF) == MderFloat(2047, -1)


@settings(deadline=None)  # shared CI box: wall-clock limits flake
@given(st.integers(0, 0xFFFF))
def test_sfloat_bytes_roundtrip(raw: int) -> None:
    assert encode_sfloat(decode_sfloat(raw)) == raw


@settings(deadline=None)  # shared CI box: wall-clock limits flake
@given(st.integers(0, 0xFFFFFFFF))
def test_float_bytes_roundtrip(raw: int) -> None:
    assert encode_float32(decode_float32(raw)) == raw


@settings(deadline=None)  # shared CI box: wall-clock limits flake
@given(st.integers(-2045, 2045), st.integers(-8, 7))
def test_sfloat_value_roundtrip(mantissa: int, exponent: int) -> None:
    value = MderFloat(mantissa, exponent)
    assert decode_sfloat(encode_sfloat(value)) == value


@pytest.mark.parametrize(
    "bad", [MderFloat(2048, 0), MderFloat(1, 8), MderFloat(1, -9), MderFloat(2047, 0)]
)
def test_sfloat_encode_rejects_unrepresentable(bad: MderFloat) -> None:
    with pytest.raises(ValueError):
        encode_sfloat(bad)


def test_of_builds_shortest_or_fixed_precision() -> None:
    assert MderFloat.of(18.9) == MderFloat(189, -1)
    assert MderFloat.of("120") == MderFloat(12, 1)
    assert MderFloat.of(120, decimals=0) == MderFloat(120, 0)
    assert MderFloat.of(Decimal("5.50"), decimals=2) == MderFloat(550, -2)
    assert sfloat(7.2, 1) == MderFloat(72, -1)
    with pytest.raises(ValueError):
        sfloat(123456)
    with pytest.raises(ValueError):
        MderFloat.of(float("nan"))
