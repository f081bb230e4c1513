"""Bulk INSERT … ON CONFLICT DO NOTHING for the ingest hot path, values converted once.

:func:`~cloud_api.db.upsert.insert_ignore` lets SQLAlchemy run every bound value through its
column type's processors: a reading row's two timestamps through ``UtcDateTime`` *and* the
dialect's datetime formatting, its body through ``json.dumps``. Profiled in a worker that was
the largest part of the archive write (docs/ingest.md). :func:`bulk_insert_ignore` is the
same statement — the dialect's ``insert()`` with ``ON CONFLICT DO NOTHING``, executed "many"
in the caller's transaction — but each value is converted by ONE cheap function chosen per
(column type, dialect), and the statement is built on an untyped table clause so nothing
converts it again. On SQLite it runs as the driver's ``executemany``; on PostgreSQL through
SQLAlchemy's insertmanyvalues (see :func:`bulk_insert_ignore`).

Fast converters exist for what the ingest tables use: ``UtcDateTime`` (naive UTC; on SQLite
the exact text SQLAlchemy's SQLite ``DATETIME`` stores), ``JSON`` given a :class:`JsonText`
(already-encoded JSON, e.g. pydantic's ``model_dump_json``) and ``Boolean`` on SQLite. Every
other column type falls back to SQLAlchemy's own bind processor for that dialect, so the
stored values are the same as ``insert_ignore`` would store (``tests/cloud_api/db/test_bulk.py``
compares the two on SQLite and PostgreSQL).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Table, column, table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from cloud_api.db.types import UtcDateTime

Convert = Callable[[Any], Any]


class JsonText(str):
    """A value that IS JSON text already: stored as is in a JSON column (no second encoding)."""

    __slots__ = ()


def _utc_naive(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"expected a timezone-aware datetime, got {value!r}")
    return value.astimezone(UTC).replace(tzinfo=None)


def _sqlite_datetime(value: datetime) -> str:
    # SQLAlchemy's SQLite DATETIME storage format, "%Y-%m-%d %H:%M:%S.%f" (always 6 digits):
    # the UTC isoformat without its "+00:00" (datetime.replace costs ~3 µs, this ~0.5 µs).
    if value.tzinfo is None:
        raise ValueError(f"expected a timezone-aware datetime, got {value!r}")
    return value.astimezone(UTC).isoformat(" ", "microseconds")[:26]


def _same_as_last(convert: Convert) -> Convert:
    """``convert`` remembering its last answer: a batch's rows share one ``received_at``."""
    last: list[Any] = [None, None]

    def cached(value: Any) -> Any:
        if value is not last[0]:
            last[:] = value, convert(value)
        return last[1]

    return cached


def _json(value: Any) -> str:
    if type(value) is JsonText:
        return value
    return json.dumps(value)  # what SQLAlchemy's JSON type does with a plain value


def _converter(col: Any, dialect: Dialect) -> Convert | None:
    kind = col.type
    if isinstance(kind, UtcDateTime):
        return _sqlite_datetime if dialect.name == "sqlite" else _utc_naive
    if isinstance(kind, JSON):
        return _json
    if isinstance(kind, Boolean) and dialect.name == "sqlite":
        return int
    processor: Convert | None = kind._cached_bind_processor(dialect)
    return processor


@dataclass(frozen=True, slots=True)
class _Prepared:
    statement: Any  # PostgreSQL: the Core statement (RETURNING the key)
    sql: str  # SQLite: the same INSERT as driver SQL, positional in ``keys`` order
    converters: tuple[Convert | None, ...]


_CACHE: dict[tuple[Table, str, tuple[str, ...]], _Prepared] = {}


def _prepared(tbl: Table, dialect: Dialect, keys: tuple[str, ...]) -> _Prepared:
    cached = _CACHE.get((tbl, dialect.name, keys))
    if cached is None:
        if dialect.name not in ("postgresql", "sqlite"):  # pragma: no cover
            raise NotImplementedError(f"bulk_insert_ignore has no recipe for {dialect.name}")
        bare = table(tbl.name, *(column(k) for k in keys))
        key = next(iter(tbl.primary_key.columns)).name
        if key not in keys:
            raise ValueError(f"rows for {tbl.name} must carry the key column {key!r}")
        insert: Any = postgresql.insert if dialect.name == "postgresql" else sqlite.insert
        statement = insert(bare).on_conflict_do_nothing()
        compiled = statement.compile(dialect=dialect)
        if dialect.name == "sqlite" and tuple(compiled.positiontup or ()) != keys:
            raise RuntimeError(f"unexpected parameter order in {compiled}")  # pragma: no cover
        cached = _Prepared(statement.returning(bare.c[key]), str(compiled),
                           tuple(_converter(tbl.c[k], dialect) for k in keys))
        _CACHE[(tbl, dialect.name, keys)] = cached
    return cached


def bulk_insert_ignore(db: Session, tbl: Table, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert ``rows`` (all with the same keys), skipping those whose key exists; return how
    many landed (exact on both engines).

    SQLite: the driver's ``executemany`` (one prepared statement stepped per row, in C); the
    count is its ``rowcount``, which sums the rows each step changed (a conflict changes none).
    PostgreSQL: SQLAlchemy's insertmanyvalues (multi-row INSERTs, one round trip per page)
    with ``RETURNING`` the key, which lists only the inserted rows.
    """
    if not rows:
        return 0
    dialect = db.get_bind().dialect
    keys = tuple(rows[0])
    prepared = _prepared(tbl, dialect, keys)
    pairs = tuple(  # fresh per call: a cache must not outlive one batch (thread safety)
        (k, _same_as_last(f) if f in (_sqlite_datetime, _utc_naive) else f)
        for k, f in zip(keys, prepared.converters, strict=True)
    )
    if dialect.name == "sqlite":
        params = [
            tuple(v if (v := row[k]) is None or f is None else f(v) for k, f in pairs)
            for row in rows
        ]
        result = db.connection().exec_driver_sql(prepared.sql, params)
        return int(result.rowcount)
    named = [
        {k: (v if (v := row[k]) is None or f is None else f(v)) for k, f in pairs}
        for row in rows
    ]
    return len(db.execute(prepared.statement, named).all())
