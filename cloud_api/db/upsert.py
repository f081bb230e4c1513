"""INSERT … ON CONFLICT DO NOTHING for both SQLite and PostgreSQL.

Idempotent ingest rests on this: a redelivered msg_id hits the primary key and is
skipped, so at-least-once delivery becomes exactly-once storage.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_ignore(db: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert ``rows``, skipping any that collide on a unique key; return how many landed."""
    if not rows:
        return 0
    dialect = db.get_bind().dialect.name
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(table).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).on_conflict_do_nothing()
    else:  # pragma: no cover - only the two engines above are supported
        raise NotImplementedError(f"insert_ignore has no recipe for {dialect}")
    landed = 0
    # Row by row: executemany would not report per-row rowcount on every driver.
    for row in rows:
        landed += db.execute(stmt, dict(row)).rowcount  # type: ignore[attr-defined]
    return landed
