"""Device tasks: transport bytes in, captured readings out.

Two seams meet here. Below: a :class:`FrameSource` delivers raw characteristic values
(:class:`Frame`) as a device sends them — the bleak/BlueZ transport later, a simulator
now. Above: a :class:`DeviceSource` is an async iterator of captured items (readings,
or events such as a payload that would not decode) that the pipeline consumes.

:class:`DeviceTask` joins them: it decodes each frame with a :data:`Decoder`, and at
that moment — capture — mints the ULID ``msg_id``, stamps the patient pseudonym from the
gateway's device→patient assignment and ``simulated``. A frame that does not decode
becomes a ``decode_error`` event carrying the bytes in hex, so nothing is lost and the
loop carries on.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from vitals.ids import new_msg_id
from vitals.readings import DeviceRef, Reading
from vitals.wire import GatewayEvent

log = logging.getLogger(__name__)

Captured = Reading | GatewayEvent


@dataclass(frozen=True, slots=True)
class Frame:
    """One characteristic value as received (a notification, indication or read)."""

    characteristic: str  # canonical 128-bit UUID (device_drivers.uuids), e.g. 00002a35-…
    data: bytes
    received_at: datetime


class FrameSource(Protocol):
    def frames(self) -> AsyncIterator[Frame]: ...


class DeviceSource(Protocol):
    device_id: str

    def readings(self) -> AsyncIterator[Captured]: ...


@runtime_checkable
class ReportsBattery(Protocol):
    """A source that also knows its device's battery (BLE Battery Level 0x2A19, read once
    per connection); the status heartbeat reports the latest value."""

    device_id: str
    battery_pct: int | None


@dataclass(frozen=True, slots=True)
class Assignment:
    """Which patient a device belongs to, as configured on this gateway."""

    device_id: str
    patient: str
    device: DeviceRef
    simulated: bool


#: Turns one frame into a reading (minting msg_id etc.), or None for a frame that carries
#: no reading (e.g. a live cuff pressure); raises on a malformed frame.
Decoder = Callable[[Frame, Assignment], Reading | None]


class DeviceTask:
    def __init__(self, assignment: Assignment, frames: FrameSource, decoder: Decoder) -> None:
        self.assignment = assignment
        self.device_id = assignment.device_id
        self._frames = frames
        self._decode = decoder
        self.decode_errors = 0

    async def readings(self) -> AsyncIterator[Captured]:
        async for frame in self._frames.frames():
            try:
                reading = self._decode(frame, self.assignment)
            except Exception as exc:  # a bad payload must not stop the device loop
                self.decode_errors += 1
                log.warning("device %s: undecodable %s payload %s: %s", self.device_id,
                            frame.characteristic, frame.data.hex(), exc)
                yield GatewayEvent(
                    msg_id=new_msg_id(frame.received_at), at=frame.received_at,
                    code="decode_error", device=self.assignment.device.key,
                    detail={"characteristic": frame.characteristic, "payload_hex": frame.data.hex(),
                            "reason": str(exc)[:500]},
                    simulated=self.assignment.simulated,
                )
                continue
            if reading is not None:
                yield reading


class StaticSource:
    """A DeviceSource over ready-made items (tests, replay)."""

    def __init__(self, device_id: str, items: Iterable[Captured]) -> None:
        self.device_id = device_id
        self._items = list(items)

    async def readings(self) -> AsyncIterator[Captured]:
        for item in self._items:
            yield item


def utcnow() -> datetime:
    return datetime.now(UTC)
