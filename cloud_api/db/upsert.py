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
        base: Any = postgresql.insert(table)
    elif dialect == "sqlite":  # ON CONFLICT and RETURNING need SQLite ≥ 3.35
        base = sqlite.insert(table)
    else:  # pragma: no cover - only the two engines above are supported
        raise NotImplementedError(f"insert_ignore has no recipe for {dialect}")
    key = next(iter(table.primary_key.columns))
    # RETURNING lists only the rows actually inserted: an exact count on both engines.
    # Executed "many" with one cached statement; SQLAlchemy's insertmanyvalues turns it
    # into batched multi-row INSERTs on both engines.
    stmt = base.on_conflict_do_nothing().returning(key)
    return len(db.execute(stmt, [dict(r) for r in rows]).all())
