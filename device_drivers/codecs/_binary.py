"""Bounds-checked little-endian reading and writing shared by the codecs.

Every read checks the remaining length first and raises :class:`DecodeError` naming the
field, so no decoder can fail with ``struct.error`` / ``IndexError`` or read past the end.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntFlag
from functools import lru_cache
from typing import NoReturn, TypeVar

from device_drivers.codecs.numbers import (
    _SFLOAT_CACHE,
    Mder,
    MderSpecial,
    decode_float32,
    decode_sfloat,
    encode_float32,
    encode_sfloat,
)
from device_drivers.errors import DecodeError, EncodeError

F = TypeVar("F", bound=IntFlag)


def cached_flags(cls: type[F]) -> Callable[[int], F]:
    """``cls(value)`` memoised: building composite IntFlag values is slow in the hot path."""
    return lru_cache(maxsize=4096)(cls)


class Reader:
    """Sequential reader over one characteristic payload.

    The hot methods inline their bounds check (no helper call per field): decoding speed
    matters for the fuzz tests and the ECG/BP benchmarks.
    """

    __slots__ = ("data", "pos", "size", "uuid")

    def __init__(self, uuid: str, data: bytes) -> None:
        self.uuid = uuid
        self.data = data if type(data) is bytes else bytes(data)
        self.pos = 0
        self.size = len(self.data)

    def fail(self, reason: str) -> NoReturn:
        raise DecodeError(self.uuid, self.data, reason)

    def truncated(self, size: int, what: str) -> NoReturn:
        self.fail(
            f"truncated: {what} needs {size} byte(s) at offset {self.pos}, "
            f"{self.size - self.pos} left"
        )

    @property
    def remaining(self) -> int:
        return self.size - self.pos

    def u8(self, what: str) -> int:
        pos = self.pos
        if pos >= self.size:
            self.truncated(1, what)
        self.pos = pos + 1
        return self.data[pos]

    def s8(self, what: str) -> int:
        value = self.u8(what)
        return value - 0x100 if value >= 0x80 else value

    def u16(self, what: str, *, big_endian: bool = False) -> int:
        pos = self.pos
        if pos + 2 > self.size:
            self.truncated(2, what)
        self.pos = pos + 2
        data = self.data
        if big_endian:
            return data[pos] << 8 | data[pos + 1]
        return data[pos] | data[pos + 1] << 8

    def s16(self, what: str) -> int:
        value = self.u16(what)
        return value - 0x10000 if value >= 0x8000 else value

    def u24(self, what: str) -> int:
        return int.from_bytes(self.raw(3, what), "little")

    def u32(self, what: str) -> int:
        return int.from_bytes(self.raw(4, what), "little")

    def u64(self, what: str) -> int:
        return int.from_bytes(self.raw(8, what), "little")

    def raw(self, size: int, what: str) -> bytes:
        pos = self.pos
        if pos + size > self.size:
            self.truncated(size, what)
        self.pos = pos + size
        return self.data[pos : pos + size]

    def rest(self) -> bytes:
        start, self.pos = self.pos, self.size
        return self.data[start:]

    def sfloat(self, what: str, *, big_endian: bool = False) -> Mder:
        pos = self.pos
        if pos + 2 > self.size:
            self.truncated(2, what)
        self.pos = pos + 2
        data = self.data
        raw = data[pos] << 8 | data[pos + 1] if big_endian else data[pos] | data[pos + 1] << 8
        if raw == 0x0801:
            self.fail(f"{what} is the reserved SFLOAT value 0x0801")
        value = _SFLOAT_CACHE.get(raw)
        return value if value is not None else decode_sfloat(raw)

    def float32(self, what: str) -> Mder:
        value = decode_float32(self.u32(what))
        if value is MderSpecial.RESERVED:
            self.fail(f"{what} is the reserved FLOAT value 0x00800001")
        return value

    def end(self) -> None:
        if self.pos != self.size:
            self.fail(
                f"{self.size - self.pos} unexpected trailing byte(s) at offset {self.pos} "
                "(the flags announce fewer fields)"
            )


class Writer:
    """Little-endian payload builder; range errors become :class:`EncodeError`."""

    __slots__ = ("buf", "uuid")

    def __init__(self, uuid: str) -> None:
        self.uuid = uuid
        self.buf = bytearray()

    def fail(self, reason: str) -> NoReturn:
        raise EncodeError(self.uuid, reason)

    def _int(self, value: int, size: int, signed: bool, what: str, order: str = "little") -> None:
        try:
            self.buf += value.to_bytes(size, order, signed=signed)  # type: ignore[arg-type]
        except OverflowError:
            kind = "signed" if signed else "unsigned"
            self.fail(f"{what}={value} does not fit {size * 8}-bit {kind}")

    def uint(self, value: int, size: int, what: str) -> None:
        self._int(value, size, False, what)

    def u8(self, value: int, what: str) -> None:
        self._int(value, 1, False, what)

    def s8(self, value: int, what: str) -> None:
        self._int(value, 1, True, what)

    def u16(self, value: int, what: str, *, big_endian: bool = False) -> None:
        self._int(value, 2, False, what, "big" if big_endian else "little")

    def s16(self, value: int, what: str) -> None:
        self._int(value, 2, True, what)

    def u24(self, value: int, what: str) -> None:
        self._int(value, 3, False, what)

    def u32(self, value: int, what: str) -> None:
        self._int(value, 4, False, what)

    def u64(self, value: int, what: str) -> None:
        self._int(value, 8, False, what)

    def raw(self, data: bytes) -> None:
        self.buf += data

    def sfloat(self, value: Mder, what: str, *, big_endian: bool = False) -> None:
        try:
            raw = encode_sfloat(value)
        except ValueError as exc:
            self.fail(f"{what}: {exc}")
        self.u16(raw, what, big_endian=big_endian)

    def float32(self, value: Mder, what: str) -> None:
        try:
            raw = encode_float32(value)
        except ValueError as exc:
            self.fail(f"{what}: {exc}")
        self.u32(raw, what)

    def bytes(self) -> bytes:
        return bytes(self.buf)
