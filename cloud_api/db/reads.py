"""Read queries behind the API (readings pages, freshness), kept out of the routes."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from cloud_api.db.models import ReadingRow


class CursorError(ValueError):
    """A pagination cursor that we did not issue."""


def encode_cursor(row: ReadingRow) -> str:
    raw = json.dumps([row.measured_at.isoformat(), row.msg_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, msg_id = json.loads(raw)
        when = datetime.fromisoformat(at)
        if when.tzinfo is None or not isinstance(msg_id, str):
            raise ValueError
        return when, msg_id
    except (ValueError, TypeError):
        raise CursorError("invalid cursor") from None


@dataclass(frozen=True, slots=True)
class ReadingsPage:
    rows: Sequence[ReadingRow]
    next_cursor: str | None


def readings_page(
    db: Session, patient_id: str, *, since: datetime | None = None, until: datetime | None = None,
    kinds: Sequence[str] = (), limit: int = 100, cursor: str | None = None,
) -> ReadingsPage:
    """Newest first by (measured_at, msg_id); keyset pagination, stable under inserts."""
    query = select(ReadingRow).where(ReadingRow.patient_id == patient_id)
    if since is not None:
        query = query.where(ReadingRow.measured_at >= since)
    if until is not None:
        query = query.where(ReadingRow.measured_at < until)
    if kinds:
        query = query.where(ReadingRow.kind.in_(kinds))
    if cursor is not None:
        at, msg_id = decode_cursor(cursor)
        query = query.where(or_(
            ReadingRow.measured_at < at,
            and_(ReadingRow.measured_at == at, ReadingRow.msg_id < msg_id),
        ))
    query = query.order_by(ReadingRow.measured_at.desc(), ReadingRow.msg_id.desc())
    rows = db.scalars(query.limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return ReadingsPage(rows, encode_cursor(rows[-1]) if more else None)


def last_received_at(db: Session) -> datetime | None:
    """When ingest last stored a reading (any worker): a freshness hint for /healthz."""
    return db.scalar(select(func.max(ReadingRow.received_at)))
