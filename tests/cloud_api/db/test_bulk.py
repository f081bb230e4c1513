"""bulk_insert_ignore stores what insert_ignore (SQLAlchemy's type processing) stores."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Engine, select

from cloud_api.db.bulk import JsonText, _sqlite_datetime, bulk_insert_ignore
from cloud_api.db.engine import session_factory
from cloud_api.db.models import ReadingRow
from cloud_api.db.upsert import insert_ignore
from tests.cloud_api.factories import T0, bp

GW = "gw-demo-1"
TABLE: Any = ReadingRow.__table__


def _row(reading: Any, received_at: datetime, *, text: bool) -> dict[str, Any]:
    body: Any = (JsonText(reading.model_dump_json(exclude_none=True)) if text
                 else reading.model_dump(mode="json", exclude_none=True))
    return {"msg_id": reading.msg_id, "patient_id": reading.patient, "gateway_id": GW,
            "kind": reading.kind.value, "measured_at": reading.measured_at,
            "received_at": received_at, "device_key": reading.device.key,
            "simulated": reading.simulated, "body": body}


def _stored(engine: Engine, msg_id: str) -> tuple[Any, ...]:
    """The row as the database holds it (raw driver values) and as the ORM reads it back."""
    with engine.connect() as conn:
        raw = conn.exec_driver_sql(
            "SELECT measured_at, received_at, simulated, body FROM readings WHERE msg_id = "
            + ("?" if engine.dialect.name == "sqlite" else "%(m)s"),
            (msg_id,) if engine.dialect.name == "sqlite" else {"m": msg_id},
        ).one()
        orm = conn.execute(select(ReadingRow.measured_at, ReadingRow.received_at,
                                  ReadingRow.simulated, ReadingRow.body)
                           .where(ReadingRow.msg_id == msg_id)).one()
    raw_body = raw[3] if isinstance(raw[3], (dict, list)) else json.loads(raw[3])
    return (raw[0], raw[1], raw[2], raw_body), tuple(orm)


def test_same_rows_as_sqlalchemy_type_processing(engine: Engine) -> None:
    # An odd offset and microseconds: the UTC conversion and the text format both matter.
    received = datetime(2026, 3, 1, 12, 30, 5, 123456, tzinfo=timezone(timedelta(hours=5)))
    slow, fast = bp(minutes=1), bp(minutes=2)
    with session_factory(engine).begin() as db:
        assert insert_ignore(db, TABLE, [_row(slow, received, text=False)]) == 1
        assert bulk_insert_ignore(db, TABLE, [_row(fast, received, text=True)]) == 1
    (raw_slow, orm_slow), (raw_fast, orm_fast) = _stored(engine, slow.msg_id), _stored(
        engine, fast.msg_id)
    assert raw_fast[1] == raw_slow[1]  # received_at: the same stored value, byte for byte
    assert raw_fast[2] == raw_slow[2]  # simulated
    assert orm_fast[1] == received.astimezone(UTC)
    assert orm_fast[0] == fast.measured_at and orm_slow[0] == slow.measured_at
    assert orm_fast[3] == fast.model_dump(mode="json", exclude_none=True)
    assert raw_fast[3] == orm_fast[3]
    assert orm_fast[2] is True


def test_counts_only_new_rows(engine: Engine) -> None:
    readings = [bp(minutes=i) for i in range(5)]
    with session_factory(engine).begin() as db:
        first = bulk_insert_ignore(db, TABLE, [_row(r, T0, text=True) for r in readings[:3]])
    with session_factory(engine).begin() as db:
        again = bulk_insert_ignore(db, TABLE, [_row(r, T0, text=True) for r in readings])
    assert (first, again) == (3, 2)
    with engine.connect() as conn:
        assert len(conn.scalars(select(ReadingRow.msg_id)).all()) == 5


@pytest.mark.parametrize("moment", [
    datetime(2026, 1, 1, tzinfo=UTC),  # zero microseconds: isoformat would drop them
    datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-3))),
    datetime(2026, 6, 1, 8, 0, 0, 1, tzinfo=timezone(timedelta(minutes=330))),
])
def test_sqlite_datetime_text_is_sqlalchemys(moment: datetime) -> None:
    from sqlalchemy.dialects import sqlite

    process = sqlite.DATETIME().bind_processor(sqlite.dialect())  # type: ignore[no-untyped-call]
    assert process is not None
    assert _sqlite_datetime(moment) == process(moment.astimezone(UTC).replace(tzinfo=None))


def test_naive_datetime_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        _sqlite_datetime(datetime(2026, 1, 1))
