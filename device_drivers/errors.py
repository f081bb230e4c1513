"""Typed errors of the device drivers.

A malformed payload is never an unhandled exception and never a silently wrong number:
decoders raise :class:`DecodeError`, carrying what a human needs to inspect it later
(the characteristic, the exact bytes, the reason).
"""

from __future__ import annotations

from device_drivers.uuids import short_name


class DecodeError(ValueError):
    """A GATT payload that does not decode to a trustworthy value."""

    def __init__(self, char_uuid: str, payload: bytes, reason: str) -> None:
        super().__init__(reason)
        self.char_uuid = char_uuid
        self.payload = bytes(payload)
        self.reason = reason

    @property
    def payload_hex(self) -> str:
        return self.payload.hex()

    # Built on demand: fuzzing and bad radio links raise many of these.
    def __str__(self) -> str:
        return f"{short_name(self.char_uuid)} [{self.payload_hex}]: {self.reason}"

    def __reduce__(self) -> tuple[type[DecodeError], tuple[str, bytes, str]]:
        return (DecodeError, (self.char_uuid, self.payload, self.reason))


class EncodeError(ValueError):
    """A value that cannot be written as the requested characteristic (e.g. out of range)."""

    def __init__(self, char_uuid: str, reason: str) -> None:
        self.char_uuid = char_uuid
        self.reason = reason
        super().__init__(f"{short_name(char_uuid)}: {reason}")


class MappingError(ValueError):
    """A decoded GATT value that cannot become a domain reading (NaN systolic, LO without
    a limit, an intermediate cuff pressure, a value outside physiological bounds...)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class UnknownCharacteristicError(LookupError):
    """No codec is registered for this characteristic UUID."""

    def __init__(self, char_uuid: str) -> None:
        self.char_uuid = char_uuid
        super().__init__(f"no codec for characteristic {char_uuid}")
