"""What one MQTT message turns into: records to store, dead letters, and ids to ack.

The handler produces an :class:`IngestBatch`; a :class:`~cloud_api.ingest.sinks.ReadingSink`
stores it; the worker then acks. Several batches can be merged (``merge``) when a later
worker batches across messages.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from vitals.alerts import Alert
from vitals.readings import BloodPressure, BodyWeight, EcgStrip, Glucose, HeartRate, SpO2
from vitals.wire import GatewayEvent

AnyReading = BloodPressure | Glucose | HeartRate | EcgStrip | SpO2 | BodyWeight


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message, or one item of a batch, that could not be accepted; kept as received."""

    topic: str
    payload: bytes
    reason: str
    received_at: datetime
    gateway: str | None = None  # as far as we know; unverified when the reason is about it
    msg_id: str | None = None

    @property
    def digest(self) -> str:
        """Identity for idempotent storage: a redelivered bad message is kept once."""
        h = hashlib.sha256()
        for part in (self.topic.encode(), self.payload, self.reason.encode()):
            h.update(len(part).to_bytes(8, "big"))
            h.update(part)
        return h.hexdigest()


@dataclass(frozen=True, slots=True)
class IngestBatch:
    received_at: datetime
    gateway: str | None  # the topic's gateway; where the ack goes (None: no ack possible)
    readings: tuple[AnyReading, ...] = ()
    alerts: tuple[Alert, ...] = ()
    events: tuple[GatewayEvent, ...] = ()
    dead_letters: tuple[DeadLetter, ...] = ()
    ack_ids: tuple[str, ...] = field(default=())  # everything handled: stored or dead-lettered
    tenant: str | None = None  # the gateway's organisation (time-series `tenant` tag)

    def merge(self, other: IngestBatch) -> IngestBatch:
        """Both batches in one (acks are per gateway, so the caller keeps those apart)."""
        return IngestBatch(
            received_at=max(self.received_at, other.received_at),
            gateway=self.gateway if self.gateway == other.gateway else None,
            readings=self.readings + other.readings,
            alerts=self.alerts + other.alerts,
            events=self.events + other.events,
            dead_letters=self.dead_letters + other.dead_letters,
            ack_ids=self.ack_ids + other.ack_ids,
            # A dead-letter-only batch has no tenant; it must not erase its neighbour's.
            tenant=_merge_tenant(self.tenant, other.tenant),
        )

    @property
    def size(self) -> int:
        """Records to write (what the worker's batch limit counts)."""
        return len(self.readings) + len(self.alerts) + len(self.events) + len(self.dead_letters)


def _merge_tenant(a: str | None, b: str | None) -> str | None:
    if a is None or b is None or a == b:
        return a or b
    return None  # different organisations: no single tenant (the sink refuses to guess)


@dataclass(frozen=True, slots=True)
class WriteResult:
    stored: int = 0  # new rows (readings, alert events, gateway events)
    duplicates: int = 0  # already stored: a redelivery or a gateway resend
    dead_lettered: int = 0

    def __add__(self, other: WriteResult) -> WriteResult:
        return WriteResult(self.stored + other.stored, self.duplicates + other.duplicates,
                           self.dead_lettered + other.dead_lettered)
