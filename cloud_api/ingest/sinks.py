"""Where ingested batches go: the :class:`ReadingSink` seam and its implementations.

``SqlStore`` is the system of record (readings, alerts, events, dead letters in ONE
transaction per batch, idempotent by msg_id). A time-series sink (InfluxDB) or a
fan-out over several sinks plugs in behind the same Protocol; the worker only acks
after ``write`` returned.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import Engine, or_, update
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from cloud_api.db.bulk import JsonText, bulk_insert_ignore
from cloud_api.db.directory import GatewayAssignment, gateway_assignment
from cloud_api.db.engine import session_factory
from cloud_api.db.models import AlertEventRow, AlertRow, DeadLetterRow, GatewayEventRow, ReadingRow
from cloud_api.db.upsert import insert_ignore
from cloud_api.ingest.batch import IngestBatch, WriteResult
from vitals.alerts import Alert
from vitals.status import GatewayStatus

# Called in the batch's transaction with the alert events that were new (not redelivered).
AlertHook = Callable[[Session, Sequence[Alert], str, datetime], None]


class StoreUnavailable(RuntimeError):
    """The sink could not write; the worker must not ack and will retry."""


class BatchRejected(ValueError):
    """The store refuses this data for good (constraint, type); retrying cannot help."""


class ReadingSink(Protocol):
    async def write(self, batch: IngestBatch) -> WriteResult:
        """Store ``batch`` durably and idempotently, or raise :class:`StoreUnavailable`."""
        ...

    async def write_many(self, batches: Sequence[IngestBatch]) -> WriteResult:
        """Several batches (one per gateway or message) in ONE durable write, all or nothing."""
        ...


@runtime_checkable
class StatusSink(Protocol):
    async def write_statuses(self, statuses: Sequence[GatewayStatus],
                             received_at: datetime) -> None:
        """Keep each gateway's latest presence (for the cloud rules): in order, in one
        write (a fleet reconnecting sends many at once)."""
        ...


def record_gateway_alerts(db: Session, alerts: Sequence[Alert], gateway: str,
                          received_at: datetime) -> None:
    """The default alert hook: the lifecycle in cloud_api.alerting. Imported on first use
    so the worker starts (and subscribes) as fast as before; gateways publishing before
    the shared subscription exists would otherwise lose a race at start-up."""
    from cloud_api.alerting.ingest_seam import record_gateway_alerts as hook

    hook(db, alerts, gateway, received_at)


class SqlStore:
    """Relational system of record; also the gateway directory the handler consults."""

    def __init__(self, engine: Engine, on_alerts: AlertHook | None = record_gateway_alerts) -> None:
        self._sessions = session_factory(engine)
        self._on_alerts = on_alerts  # the alert lifecycle (cloud_api.alerting)

    async def assignment(self, gateway_id: str) -> GatewayAssignment | None:
        try:
            return await asyncio.to_thread(self._assignment, gateway_id)
        except Exception as exc:  # DB down is "retry later", never "dead-letter"
            raise StoreUnavailable(f"{type(exc).__name__}: {exc}") from exc

    def _assignment(self, gateway_id: str) -> GatewayAssignment | None:
        with self._sessions() as db:
            return gateway_assignment(db, gateway_id)

    async def assignments_for(self, gateway_ids: Sequence[str]) -> dict[str, GatewayAssignment]:
        """Several look-ups in one session and one thread hop (the registered ones only)."""
        def _lookup() -> dict[str, GatewayAssignment]:
            with self._sessions() as db:
                found = (gateway_assignment(db, g) for g in gateway_ids)
                return {a.gateway_id: a for a in found if a is not None}
        try:
            return await asyncio.to_thread(_lookup)
        except Exception as exc:
            raise StoreUnavailable(f"{type(exc).__name__}: {exc}") from exc

    async def write_statuses(self, statuses: Sequence[GatewayStatus],
                             received_at: datetime) -> None:
        from cloud_api.alerting.presence import record_status

        def _write() -> None:
            with self._sessions.begin() as db:
                for status in statuses:
                    record_status(db, status, received_at)
                    db.flush()  # the next status of the same gateway must see this one
        try:
            await asyncio.to_thread(_write)
        except IntegrityError:  # an unregistered gateway: nothing to watch
            if len(statuses) > 1:  # keep the others: one by one
                for status in statuses:
                    await self.write_statuses([status], received_at)
            return
        except Exception as exc:
            raise StoreUnavailable(f"{type(exc).__name__}: {exc}") from exc

    async def write(self, batch: IngestBatch) -> WriteResult:
        return await self.write_many([batch])

    async def write_many(self, batches: Sequence[IngestBatch]) -> WriteResult:
        try:
            return await asyncio.to_thread(self._write, batches)
        except (IntegrityError, DataError) as exc:
            # The data, not the database, is the problem: redelivery would loop forever.
            raise BatchRejected(f"{type(exc).__name__}: {exc.orig}") from exc
        except Exception as exc:  # any other DB failure means "not stored": never ack on it
            raise StoreUnavailable(f"{type(exc).__name__}: {exc}") from exc

    def _write(self, batches: Sequence[IngestBatch]) -> WriteResult:
        # One transaction (one fsync) for the lot: the worker batches across messages.
        with self._sessions.begin() as db:
            return sum((self._write_one(db, b) for b in batches), WriteResult())

    def _write_one(self, db: Session, batch: IngestBatch) -> WriteResult:
        # The hot path (every reading): values converted once, not per SQLAlchemy type layer.
        stored = bulk_insert_ignore(db, ReadingRow.__table__, _reading_rows(batch))  # type: ignore[arg-type]
        stored += bulk_insert_ignore(db, GatewayEventRow.__table__, _event_rows(batch))  # type: ignore[arg-type]
        fresh = _write_alerts(db, batch)
        stored += len(fresh)
        if fresh and self._on_alerts is not None and batch.gateway is not None:
            self._on_alerts(db, fresh, batch.gateway, batch.received_at)
        letters = insert_ignore(db, DeadLetterRow.__table__, _letter_rows(batch))  # type: ignore[arg-type]
        total = len(batch.readings) + len(batch.events) + len(batch.alerts)
        return WriteResult(stored, total - stored, letters)


def _reading_rows(batch: IngestBatch) -> list[dict[str, Any]]:
    return [
        {
            "msg_id": r.msg_id, "patient_id": r.patient, "gateway_id": batch.gateway,
            "kind": r.kind.value, "measured_at": r.measured_at, "received_at": batch.received_at,
            "device_key": r.device.key, "simulated": r.simulated,
            # JSON text straight from pydantic-core (a dict + json.dumps cost ~4× more).
            "body": JsonText(r.model_dump_json(exclude_none=True)),
        }
        for r in batch.readings
    ]


def _event_rows(batch: IngestBatch) -> list[dict[str, Any]]:
    return [
        {
            "msg_id": e.msg_id, "gateway_id": batch.gateway, "code": e.code, "at": e.at,
            "received_at": batch.received_at, "simulated": e.simulated,
            "body": JsonText(e.model_dump_json(exclude_none=True)),
        }
        for e in batch.events
    ]


def _letter_rows(batch: IngestBatch) -> list[dict[str, Any]]:
    return [
        {
            "digest": d.digest, "received_at": d.received_at, "topic": d.topic,
            "gateway_id": d.gateway, "msg_id": d.msg_id, "reason": d.reason, "payload": d.payload,
        }
        for d in batch.dead_letters
    ]


def _write_alerts(db: Session, batch: IngestBatch) -> list[Alert]:
    """One event row per alert msg_id; the alert row keeps the newest state seen.

    Events may arrive out of order (shared subscriptions spread a gateway over workers),
    so the alert row only moves forward: by ``updated_at``, ties broken by msg_id.
    """
    fresh: list[Alert] = []
    for alert in batch.alerts:
        body = alert.model_dump(mode="json", exclude_none=True)
        event: dict[str, Any] = {
            "msg_id": alert.msg_id, "alert_id": alert.alert_id, "gateway_id": batch.gateway,
            "state": alert.state.value, "at": alert.updated_at,
            "received_at": batch.received_at, "body": body,
        }
        latest: dict[str, Any] = {
            "patient_id": alert.patient, "gateway_id": batch.gateway, "rule_id": alert.rule_id,
            "severity": int(alert.severity), "state": alert.state.value, "title": alert.title,
            "raised_at": alert.raised_at, "updated_at": alert.updated_at,
            "cleared_at": alert.cleared_at, "simulated": alert.simulated,
            "last_msg_id": alert.msg_id, "body": body,
        }
        if not insert_ignore(db, AlertEventRow.__table__, [event]):  # type: ignore[arg-type]
            continue
        fresh.append(alert)
        if insert_ignore(db, AlertRow.__table__, [{"alert_id": alert.alert_id, **latest}]):  # type: ignore[arg-type]
            continue
        db.execute(
            update(AlertRow)
            .where(AlertRow.alert_id == alert.alert_id)
            .where(or_(
                AlertRow.updated_at < alert.updated_at,
                (AlertRow.updated_at == alert.updated_at) & (AlertRow.last_msg_id < alert.msg_id),
            ))
            .values(**latest)
        )
    return fresh


class MemorySink:
    """In-memory sink for unit tests of worker logic (keeps everything, dedupes by msg_id)."""

    def __init__(self, assignments: Sequence[GatewayAssignment] = ()) -> None:
        self.assignments = {a.gateway_id: a for a in assignments}
        self.records: dict[str, Any] = {}
        self.dead_letters: dict[str, Any] = {}

    async def assignment(self, gateway_id: str) -> GatewayAssignment | None:
        return self.assignments.get(gateway_id)

    async def write_many(self, batches: Sequence[IngestBatch]) -> WriteResult:
        return sum([await self.write(b) for b in batches], WriteResult())

    async def write(self, batch: IngestBatch) -> WriteResult:
        items = (*batch.readings, *batch.alerts, *batch.events)
        new = [i for i in items if i.msg_id not in self.records]
        self.records.update({i.msg_id: i for i in new})
        letters = [d for d in batch.dead_letters if d.digest not in self.dead_letters]
        self.dead_letters.update({d.digest: d for d in letters})
        return WriteResult(len(new), len(items) - len(new), len(letters))
