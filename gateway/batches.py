"""Group outbox rows into wire-v1 batch messages (alerts first).

Rows already hold each item's JSON exactly as the wire model serialises it, so a batch
is assembled by joining those strings into the envelope instead of re-validating every
item: draining a 100 000-row backlog must not spend its time in pydantic. The result is
byte-for-byte a valid :class:`vitals.wire.ReadingsBatch` / ``AlertsBatch`` /
``EventsBatch`` (the tests decode it with :func:`vitals.wire.decode`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from gateway.outbox import PRIORITY, Kind, Row
from vitals import topics
from vitals.wire import MAX_BATCH, VERSION

_TYPE = {Kind.READING: "readings", Kind.ALERT: "alerts", Kind.EVENT: "events"}
_TOPIC = {
    Kind.READING: topics.TopicKind.READINGS,
    Kind.ALERT: topics.TopicKind.ALERTS,
    Kind.EVENT: topics.TopicKind.EVENTS,
}


@dataclass(frozen=True, slots=True)
class Batch:
    """One MQTT message: its topic, payload and the msg_ids it carries."""

    kind: Kind
    topic: str
    payload: bytes
    msg_ids: tuple[str, ...]


def build_batches(
    gateway: str,
    rows: Sequence[Row],
    sent_at: datetime,
    max_items: int = 200,
    max_bytes: int = 256 * 1024,
) -> list[Batch]:
    """Split ``rows`` by kind (in priority order) and by size into batch messages."""
    max_items = min(max_items, MAX_BATCH)
    by_kind: dict[Kind, list[Row]] = {}
    for row in rows:
        if row.kind in _TYPE:
            by_kind.setdefault(row.kind, []).append(row)
    batches: list[Batch] = []
    for kind in sorted(by_kind, key=PRIORITY.__getitem__):
        chunk: list[Row] = []
        size = 0
        for row in by_kind[kind]:
            if chunk and (len(chunk) >= max_items or size + len(row.payload) > max_bytes):
                batches.append(_encode(gateway, kind, chunk, sent_at))
                chunk, size = [], 0
            chunk.append(row)
            size += len(row.payload) + 1
        if chunk:
            batches.append(_encode(gateway, kind, chunk, sent_at))
    return batches


def _encode(gateway: str, kind: Kind, rows: Sequence[Row], sent_at: datetime) -> Batch:
    head = json.dumps(
        {"v": VERSION, "gateway": gateway, "sent_at": sent_at.isoformat(), "type": _TYPE[kind]},
        separators=(",", ":"),
    )
    body = head[:-1] + ',"items":[' + ",".join(r.payload for r in rows) + "]}"
    return Batch(
        kind=kind,
        topic=topics.topic(gateway, _TOPIC[kind]),
        payload=body.encode(),
        msg_ids=tuple(r.msg_id for r in rows),
    )
