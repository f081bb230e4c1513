"""The embedded time-series store: one SQLite file, InfluxDB semantics.

Layout: ``series`` (measurement + canonical tag set → id), ``series_tags`` (to find series by a
subset of their tags), ``field_types`` (a field keeps its first type, as in InfluxDB) and
``points`` keyed by (series, time_ms) holding the fields as a JSON object. A rewrite of an
existing point merges with ``json_patch``: fields are unioned and the last write wins, which is
exactly InfluxDB's duplicate-point rule, so redelivered readings are harmless.

sqlite3 is blocking, so every call runs on one dedicated thread that owns the connection.
Several processes may share the file: writes take ``BEGIN IMMEDIATE`` and the caches only hold
facts that never change once committed (series ids, field types).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import Any, Self, TypeVar

from cloud_api.tsdb.base import (
    Aggregate,
    FieldType,
    FieldValue,
    RangeQuery,
    Rejected,
    Row,
    SeriesPoint,
    StoreConfigError,
    StoreUnavailable,
    WriteResult,
    field_type,
)

T = TypeVar("T")
SeriesKey = tuple[str, tuple[tuple[str, str], ...]]
Shape = tuple[str, tuple[tuple[str, type], ...]]

_DDL = """
CREATE TABLE IF NOT EXISTS series (
    id INTEGER PRIMARY KEY,
    measurement TEXT NOT NULL,
    tags TEXT NOT NULL,
    UNIQUE (measurement, tags)
);
CREATE TABLE IF NOT EXISTS series_tags (
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    series_id INTEGER NOT NULL REFERENCES series (id),
    PRIMARY KEY (key, value, series_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS field_types (
    measurement TEXT NOT NULL,
    field TEXT NOT NULL,
    type TEXT NOT NULL,
    PRIMARY KEY (measurement, field)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS points (
    series_id INTEGER NOT NULL REFERENCES series (id),
    time_ms INTEGER NOT NULL,
    fields TEXT NOT NULL,
    PRIMARY KEY (series_id, time_ms)
) WITHOUT ROWID;
"""

_UPSERT = (
    "INSERT INTO points (series_id, time_ms, fields) VALUES (?, ?, ?) "
    "ON CONFLICT (series_id, time_ms) "
    "DO UPDATE SET fields = json_patch(points.fields, excluded.fields)"
)
_SQL_AGG: dict[Aggregate, str] = {
    "mean": "AVG",
    "min": "MIN",
    "max": "MAX",
    "sum": "SUM",
    "count": "COUNT",
}
_NUMERIC: frozenset[FieldType] = frozenset({"float", "integer"})


def _tags_key(tags: Mapping[str, str]) -> str:
    return json.dumps(sorted(tags.items()), ensure_ascii=False, separators=(",", ":"))


class SqliteStore:
    """``TimeSeriesStore`` on a local SQLite file (WAL). Create with :meth:`open`."""

    def __init__(self, conn: sqlite3.Connection, executor: ThreadPoolExecutor) -> None:
        self._conn = conn
        self._executor = executor
        self._series: dict[SeriesKey, int] = {}
        self._types: dict[tuple[str, str], FieldType] = {}
        # (measurement, field names and Python types) already checked against field_types:
        # most batches repeat a handful of shapes, so each is checked once.
        self._shapes: set[Shape] = set()
        self._closed = False

    @classmethod
    async def open(
        cls, path: str | Path, *, synchronous: str = "FULL", busy_timeout_ms: int = 10_000
    ) -> SqliteStore:
        """Open (creating if needed) the store at ``path`` (``":memory:"`` for a throwaway one).

        ``synchronous=FULL`` because ingest acks a message once ``write`` returns: a committed
        point must survive power loss, not only a process crash.
        """
        if synchronous.upper() not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
            raise StoreConfigError(f"unknown SQLite synchronous mode {synchronous!r}")
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tsdb-sqlite")

        def connect() -> sqlite3.Connection:
            if str(path) != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute(f"PRAGMA synchronous = {synchronous.upper()}")
            conn.executescript(_DDL)
            return conn

        try:
            conn = await asyncio.get_running_loop().run_in_executor(executor, connect)
        except sqlite3.Error as exc:
            executor.shutdown(wait=False)
            raise StoreConfigError(
                f"cannot open SQLite time-series store at {path}: {exc}"
            ) from exc
        return cls(conn, executor)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _run(self, fn: Callable[[], T]) -> T:
        if self._closed:
            raise StoreUnavailable("the SQLite store is closed")
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, fn)
        except sqlite3.OperationalError as exc:
            # "database is locked" after busy_timeout, disk full, I/O error: all transient.
            raise StoreUnavailable(f"SQLite: {exc}") from exc

    # -- writing -----------------------------------------------------------------------------

    async def write(self, points: Sequence[SeriesPoint]) -> WriteResult:
        if not points:
            return WriteResult(written=0)
        return await self._run(lambda: self._write_sync(points))

    def _write_sync(self, points: Sequence[SeriesPoint]) -> WriteResult:
        conn = self._conn
        rejected: list[Rejected] = []
        rows: list[tuple[int, int, str]] = []
        new_types: dict[tuple[str, str], FieldType] = {}
        new_series: dict[SeriesKey, int] = {}
        new_shapes: set[Shape] = set()
        conn.execute("BEGIN IMMEDIATE")
        try:
            for point in points:
                shape = (point.measurement, tuple((k, type(v)) for k, v in point.fields.items()))
                if shape not in self._shapes and shape not in new_shapes:
                    reason = self._type_conflict(point, new_types)
                    if reason:
                        rejected.append(Rejected(point, reason))
                        continue
                    new_shapes.add(shape)
                key = point.series_key
                series_id = self._series.get(key) or new_series.get(key)
                if series_id is None:
                    series_id = new_series[key] = self._ensure_series(point)
                rows.append((series_id, point.time_ms, json.dumps(dict(point.fields))))
            conn.executemany(
                "INSERT OR IGNORE INTO field_types (measurement, field, type) VALUES (?, ?, ?)",
                [(m, f, t) for (m, f), t in new_types.items()],
            )
            conn.executemany(_UPSERT, rows)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self._types.update(new_types)
        self._series.update(new_series)
        self._shapes |= new_shapes
        return WriteResult(written=len(rows), rejected=tuple(rejected))

    def _known_type(self, measurement: str, name: str) -> FieldType | None:
        known = self._types.get((measurement, name))
        if known is None:
            row = self._conn.execute(
                "SELECT type FROM field_types WHERE measurement = ? AND field = ?",
                (measurement, name),
            ).fetchone()
            if row is not None:
                known = self._types[(measurement, name)] = row[0]
        return known

    def _type_conflict(
        self, point: SeriesPoint, new_types: dict[tuple[str, str], FieldType]
    ) -> str | None:
        mine: dict[tuple[str, str], FieldType] = {}
        for name, value in point.fields.items():
            kind = field_type(value)
            key = (point.measurement, name)
            known = new_types.get(key) or self._known_type(*key)
            if known is not None and known != kind:
                return (
                    f'field type conflict: input field "{name}" on measurement '
                    f'"{point.measurement}" is type {kind}, already exists as type {known}'
                )
            if known is None:
                mine[key] = kind
        new_types.update(mine)
        return None

    def _ensure_series(self, point: SeriesPoint) -> int:
        tags_key = _tags_key(point.tags)
        self._conn.execute(
            "INSERT OR IGNORE INTO series (measurement, tags) VALUES (?, ?)",
            (point.measurement, tags_key),
        )
        (series_id,) = self._conn.execute(
            "SELECT id FROM series WHERE measurement = ? AND tags = ?",
            (point.measurement, tags_key),
        ).fetchone()
        self._conn.executemany(
            "INSERT OR IGNORE INTO series_tags (key, value, series_id) VALUES (?, ?, ?)",
            [(k, v, series_id) for k, v in point.tags.items()],
        )
        return int(series_id)

    # -- reading -----------------------------------------------------------------------------

    @staticmethod
    def _series_filter(measurement: str, tags: Mapping[str, str]) -> tuple[str, list[Any]]:
        """SQL selecting the ids of series of ``measurement`` whose tags include ``tags``."""
        sql = "SELECT id FROM series WHERE measurement = ?"
        params: list[Any] = [measurement]
        for key, value in tags.items():
            sql += " AND id IN (SELECT series_id FROM series_tags WHERE key = ? AND value = ?)"
            params += [key, value]
        return sql, params

    async def query_range(
        self,
        measurement: str,
        tags: Mapping[str, str],
        start_ms: int,
        end_ms: int,
        *,
        fields: Sequence[str] | None = None,
        every_ms: int | None = None,
        agg: Aggregate = "mean",
        limit: int | None = None,
        descending: bool = False,
    ) -> list[Row]:
        q = RangeQuery.build(
            measurement, tags, start_ms, end_ms, fields, every_ms, agg, limit, descending
        )
        if q.every_ms is None:
            return await self._run(lambda: self._raw_sync(q))
        return await self._run(lambda: self._downsample_sync(q))

    def _raw_sync(self, q: RangeQuery) -> list[Row]:
        series_sql, params = self._series_filter(q.measurement, q.tags)
        sql = (
            "SELECT s.tags, p.time_ms, p.fields FROM points p JOIN series s ON s.id = p.series_id"
            f" WHERE p.series_id IN ({series_sql}) AND p.time_ms >= ? AND p.time_ms < ?"
        )
        params += [q.start_ms, q.end_ms]
        if q.fields is not None:
            marks = ", ".join("?" * len(q.fields))
            sql += f" AND EXISTS (SELECT 1 FROM json_each(p.fields) j WHERE j.key IN ({marks}))"
            params += list(q.fields)
        direction = "DESC" if q.descending else "ASC"
        sql += f" ORDER BY p.time_ms {direction}, s.tags {direction}"
        if q.limit is not None:
            sql += " LIMIT ?"
            params.append(q.limit)
        rows = []
        for tags_json, time_ms, fields_json in self._conn.execute(sql, params):
            values: dict[str, FieldValue] = json.loads(fields_json)
            if q.fields is not None:
                values = {k: values[k] for k in q.fields if k in values}
            tags = dict(json.loads(tags_json))
            rows.append(Row(time_ms, MappingProxyType(tags), MappingProxyType(values)))
        return rows

    def _numeric_fields(self, q: RangeQuery) -> list[str]:
        found = self._conn.execute(
            "SELECT field, type FROM field_types WHERE measurement = ? ORDER BY field",
            (q.measurement,),
        ).fetchall()
        numeric = [name for name, kind in found if kind in _NUMERIC]
        return numeric if q.fields is None else [f for f in q.fields if f in numeric]

    def _downsample_sync(self, q: RangeQuery) -> list[Row]:
        assert q.every_ms is not None
        names = self._numeric_fields(q)
        if not names:
            return []
        series_sql, params = self._series_filter(q.measurement, q.tags)
        marks = ", ".join("?" * len(names))
        sql = (
            f"SELECT (p.time_ms / ?) * ? AS bucket, j.key, {_SQL_AGG[q.agg]}(j.value)"
            " FROM points p, json_each(p.fields) j"
            f" WHERE p.series_id IN ({series_sql}) AND p.time_ms >= ? AND p.time_ms < ?"
            f" AND j.key IN ({marks}) GROUP BY bucket, j.key"
        )
        buckets: dict[int, dict[str, FieldValue]] = {}
        args = [q.every_ms, q.every_ms, *params, q.start_ms, q.end_ms, *names]
        for bucket, name, value in self._conn.execute(sql, args):
            if value is not None:
                buckets.setdefault(int(bucket), {})[name] = value
        times = sorted(buckets, reverse=q.descending)[: q.limit]
        return [Row(t, q.tags, MappingProxyType(buckets[t])) for t in times]

    async def count(self, measurement: str, tags: Mapping[str, str]) -> int:
        q = RangeQuery.build(measurement, tags, 0, 0, None, None, "count", None, False)
        series_sql, params = self._series_filter(q.measurement, q.tags)

        def run() -> int:
            sql = f"SELECT COUNT(*) FROM points WHERE series_id IN ({series_sql})"
            return int(self._conn.execute(sql, params).fetchone()[0])

        return await self._run(run)

    async def prune(self, measurement: str, before_ms: int) -> int:
        """Delete points of ``measurement`` older than ``before_ms``; returns how many.

        The embedded store's retention (InfluxDB uses retention policies / bucket retention).
        Series rows stay: they are tiny and may receive points again.
        """
        q = RangeQuery.build(measurement, {}, 0, before_ms, None, None, "count", None, False)
        series_sql, params = self._series_filter(q.measurement, q.tags)

        def run() -> int:
            sql = f"DELETE FROM points WHERE series_id IN ({series_sql}) AND time_ms < ?"
            return int(self._conn.execute(sql, [*params, q.end_ms]).rowcount)

        return await self._run(run)

    async def ping(self) -> bool:
        try:
            return await self._run(lambda: self._conn.execute("SELECT 1").fetchone() == (1,))
        except Exception:
            return False

    async def aclose(self) -> None:
        if self._closed:
            return
        try:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._conn.close)
        finally:
            self._closed = True
            self._executor.shutdown(wait=True)
