"""Read queries behind the API (readings pages, freshness), kept out of the routes."""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from cloud_api.db.models import ReadingRow


class CursorError(ValueError):
    """A pagination cursor that we did not issue."""


# Plain Core rows, not ORM instances, and executed on the session's connection (no ORM
# loading step): a 30-day trend loads 120 rows per request, and building identity-mapped
# instances cost more than the query itself.
_READINGS = ReadingRow.__table__.c
READING_COLUMNS = (_READINGS.msg_id, _READINGS.patient_id, _READINGS.gateway_id,
                   _READINGS.kind, _READINGS.measured_at, _READINGS.received_at,
                   _READINGS.device_key, _READINGS.simulated, _READINGS.body)


def encode_cursor(row: Row[Any]) -> str:
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
    rows: Sequence[Row[Any]]
    next_cursor: str | None


def readings_page(
    db: Session, patient_id: str, *, since: datetime | None = None, until: datetime | None = None,
    kinds: Sequence[str] = (), limit: int = 100, cursor: str | None = None,
) -> ReadingsPage:
    """Newest first by (measured_at, msg_id); keyset pagination, stable under inserts."""
    params: dict[str, Any] = {"patient_id": patient_id, "since": since, "until": until,
                              "kinds": list(kinds), "limit": limit + 1}
    if cursor is not None:
        params["at"], params["msg_id"] = decode_cursor(cursor)
    query = _page_query(since is not None, until is not None, bool(kinds), cursor is not None)
    rows: Sequence[Row[Any]] = db.connection().execute(query, params).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return ReadingsPage(rows, encode_cursor(rows[-1]) if more else None)


@functools.cache
def _page_query(since: bool, until: bool, kinds: bool, cursor: bool) -> Select[Any]:
    """The page query for one combination of filters, built once with bound parameters
    (building and cache-keying it per request cost more than running it)."""
    t = _READINGS
    query = select(*READING_COLUMNS).where(t.patient_id == bindparam("patient_id"))
    if since:
        query = query.where(t.measured_at >= bindparam("since", type_=t.measured_at.type))
    if until:
        query = query.where(t.measured_at < bindparam("until", type_=t.measured_at.type))
    if kinds:
        query = query.where(t.kind.in_(bindparam("kinds", expanding=True)))
    if cursor:
        at = bindparam("at", type_=t.measured_at.type)
        query = query.where(or_(t.measured_at < at,
                                and_(t.measured_at == at, t.msg_id < bindparam("msg_id"))))
    return query.order_by(t.measured_at.desc(), t.msg_id.desc()).limit(bindparam("limit"))


def last_received_at(db: Session) -> datetime | None:
    """When ingest last stored a reading (any worker): a freshness hint for /healthz."""
    return db.scalar(select(func.max(ReadingRow.received_at)))
