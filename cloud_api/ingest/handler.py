"""Turn one MQTT message into an :class:`IngestBatch` (pure decisions, no I/O but a look-up).

Checks, in order: the topic is one of ours; the payload is a v1 batch of the kind the
topic names; the envelope's gateway is the topic's gateway (the broker ACL vouches only
for the topic); the gateway is registered; each item validates on its own; each item's
patient is assigned to that gateway. Whatever fails becomes a dead letter with its raw
bytes and a reason. Nothing here raises on bad input.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Protocol

from cloud_api.db.directory import GatewayAssignment
from cloud_api.ingest.batch import DeadLetter, IngestBatch
from vitals.topics import TopicError, TopicKind, parse
from vitals.wire import WireError, decode_batch_items

log = logging.getLogger(__name__)

MAX_ID_LENGTH = 64  # the msg_id columns' width

_TYPE_OF_KIND = {
    TopicKind.READINGS: "readings",
    TopicKind.ALERTS: "alerts",
    TopicKind.EVENTS: "events",
}


class GatewayDirectory(Protocol):
    async def assignment(self, gateway_id: str) -> GatewayAssignment | None:
        """The gateway's organisation and patients, or None when it is not registered."""
        ...


async def handle(
    topic: str, payload: bytes, directory: GatewayDirectory, received_at: datetime
) -> IngestBatch:
    def reject(reason: str, gateway: str | None, ack_ids: tuple[str, ...] = ()) -> IngestBatch:
        log.warning("dead-lettering message on %s: %s", topic, reason)
        letter = DeadLetter(topic, payload, reason, received_at, gateway)
        return IngestBatch(received_at, gateway, dead_letters=(letter,), ack_ids=ack_ids)

    try:
        parsed = parse(topic)
    except TopicError as exc:
        return reject(f"topic: {exc}", None)
    expected = _TYPE_OF_KIND.get(parsed.kind)
    if expected is None:
        return reject(f"topic kind {parsed.kind.value!r} is not ingested", parsed.gateway)
    try:
        batch = decode_batch_items(payload)
    except WireError as exc:
        return reject(f"malformed: {exc.reason}", parsed.gateway)
    ids = tuple(item.msg_id for item in batch.good) + tuple(
        b.msg_id for b in batch.bad if b.msg_id is not None
    )
    if batch.type != expected:
        return reject(f"a {batch.type!r} batch on a {expected!r} topic", parsed.gateway, ids)
    if batch.gateway != parsed.gateway:
        reason = f"envelope gateway {batch.gateway!r} does not match topic gateway"
        return reject(reason, parsed.gateway, ids)
    assignment = await directory.assignment(parsed.gateway)
    if assignment is None:
        return reject(f"gateway {parsed.gateway!r} is not registered", parsed.gateway, ids)

    letters = [
        DeadLetter(topic, b.raw, b.reason, received_at, parsed.gateway, b.msg_id)
        for b in batch.bad
    ]
    accepted: list[Any] = []
    for item in batch.good:
        patient = getattr(item, "patient", None)  # gateway events carry no patient
        if len(item.msg_id) > MAX_ID_LENGTH:  # events' ids are free-form strings
            letters.append(DeadLetter(
                topic, item.model_dump_json().encode(),
                f"msg_id longer than {MAX_ID_LENGTH} characters", received_at, parsed.gateway,
            ))
        elif patient is not None and patient not in assignment.patients:
            letters.append(DeadLetter(
                topic, item.model_dump_json().encode(),
                f"patient {patient!r} is not assigned to gateway {parsed.gateway!r}",
                received_at, parsed.gateway, item.msg_id,
            ))
        else:
            accepted.append(item)
    for letter in letters:
        log.warning("dead-lettering item %s on %s: %s", letter.msg_id, topic, letter.reason)
    return IngestBatch(
        received_at, parsed.gateway,
        readings=tuple(accepted) if batch.type == "readings" else (),
        alerts=tuple(accepted) if batch.type == "alerts" else (),
        events=tuple(accepted) if batch.type == "events" else (),
        dead_letters=tuple(letters), ack_ids=ids, tenant=tenant_of(assignment),
    )


def tenant_of(assignment: GatewayAssignment) -> str:
    """The time-series ``tenant`` tag: the organisation's numeric id (stable; slugs may change)."""
    return str(assignment.org_id)
