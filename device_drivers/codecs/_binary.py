"""Bounds-checked little-endian reading and writing shared by the codecs.

Every read checks the remaining length first and raises :class:`DecodeError` naming the
field, so no decoder can fail with ``struct.error`` / ``IndexError`` or read past the end.
"""

from __future__ import annotations

import struct
from typing import NoReturn

from device_drivers.codecs.numbers import (
    Mder,
    MderSpecial,
    decode_float32,
    decode_sfloat,
    encode_float32,
    encode_sfloat,
)
from device_drivers.errors import DecodeError, EncodeError

_U16 = struct.Struct("<H")
_S16 = struct.Struct("<h")
_U16BE = struct.Struct(">H")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")


class Reader:
    """Sequential reader over one characteristic payload."""

    __slots__ = ("data", "pos", "uuid")

    def __init__(self, uuid: str, data: bytes) -> None:
        self.uuid = uuid
        self.data = bytes(data)
        self.pos = 0

    def fail(self, reason: str) -> NoReturn:
        raise DecodeError(self.uuid, self.data, reason)

    @property
    def remaining(self) -> int:
        return len(self.data) - self.pos

    def _take(self, size: int, what: str) -> int:
        start = self.pos
        if start + size > len(self.data):
            self.fail(
                f"truncated: {what} needs {size} byte(s) at offset {start}, "
                f"{len(self.data) - start} left"
            )
        self.pos = start + size
        return start

    def u8(self, what: str) -> int:
        return self.data[self._take(1, what)]

    def s8(self, what: str) -> int:
        value = self.u8(what)
        return value - 0x100 if value >= 0x80 else value

    def u16(self, what: str, *, big_endian: bool = False) -> int:
        start = self._take(2, what)
        return (_U16BE if big_endian else _U16).unpack_from(self.data, start)[0]  # type: ignore[no-any-return]

    def s16(self, what: str) -> int:
        return _S16.unpack_from(self.data, self._take(2, what))[0]  # type: ignore[no-any-return]

    def u24(self, what: str) -> int:
        start = self._take(3, what)
        return int.from_bytes(self.data[start : start + 3], "little")

    def u32(self, what: str) -> int:
        return _U32.unpack_from(self.data, self._take(4, what))[0]  # type: ignore[no-any-return]

    def u64(self, what: str) -> int:
        return _U64.unpack_from(self.data, self._take(8, what))[0]  # type: ignore[no-any-return]

    def raw(self, size: int, what: str) -> bytes:
        start = self._take(size, what)
        return self.data[start : start + size]

    def rest(self) -> bytes:
        start, self.pos = self.pos, len(self.data)
        return self.data[start:]

    def sfloat(self, what: str, *, big_endian: bool = False) -> Mder:
        value = decode_sfloat(self.u16(what, big_endian=big_endian))
        if value is MderSpecial.RESERVED:
            self.fail(f"{what} is the reserved SFLOAT value 0x0801")
        return value

    def float32(self, what: str) -> Mder:
        value = decode_float32(self.u32(what))
        if value is MderSpecial.RESERVED:
            self.fail(f"{what} is the reserved FLOAT value 0x00800001")
        return value

    def end(self) -> None:
        if self.pos != len(self.data):
            self.fail(
                f"{len(self.data) - self.pos} unexpected trailing byte(s) at offset {self.pos} "
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
