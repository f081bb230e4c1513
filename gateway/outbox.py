"""The durable outbox: every reading, alert and event waits here until the cloud acks it.

One SQLite file in WAL mode with ``synchronous=FULL`` (a Pi loses power without
warning; FULL is the setting that keeps the last commits). A reading and the alerts it
caused are inserted in ONE transaction. Rows leave the table only when the cloud's ack
for their ``msg_id`` arrives (:meth:`Outbox.ack`) or when the caps force an eviction of
non-alert rows, which is logged and counted.

Row lifecycle (``next_attempt_ms`` is the single "when may this go out" clock):

* ``put`` → due now.
* ``next_batch`` → leased: ``next_attempt_ms = now + lease`` so a second drain pass does
  not pick the same rows while their publish is in flight.
* ``release`` (publish failed) → due now again.
* ``mark_published`` (PUBACK) → ``published_ms`` set, due again after ``resend_after``
  unless the ack deletes it first; a row that goes unacked again waits twice as long each
  time (up to ``resend_max``), jittered, so a long cloud outage is not a duplicate storm.
* ``resend_unacked`` (the uplink reconnected) → rows published before the reconnect and
  still unacked are due now:
  the broker may have dropped them (mosquitto does not queue for a shared subscription
  whose worker is reconnecting); duplicates are harmless, the cloud dedups by msg_id.
* On open, leases of never-published rows are cleared: the process died mid-publish.

:class:`Outbox` is synchronous and owns its connection; :class:`AsyncOutbox` runs every
call on one dedicated thread so the event loop never waits on an fsync.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from vitals.alerts import Alert
from vitals.readings import Reading
from vitals.wire import GatewayEvent

log = logging.getLogger(__name__)

T = TypeVar("T")


class Kind(StrEnum):
    READING = "reading"
    ALERT = "alert"
    EVENT = "event"
    STATUS = "status"


#: Lower drains first: an alert never waits behind a reading backlog.
PRIORITY: dict[Kind, int] = {Kind.ALERT: 0, Kind.EVENT: 1, Kind.READING: 2, Kind.STATUS: 3}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    msg_id          TEXT    NOT NULL UNIQUE,
    kind            TEXT    NOT NULL CHECK (kind IN ('reading', 'alert', 'event', 'status')),
    priority        INTEGER NOT NULL,
    payload         TEXT    NOT NULL,
    size            INTEGER NOT NULL,
    created_ms      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    published_ms    INTEGER
);
CREATE INDEX IF NOT EXISTS outbox_order ON outbox (priority, seq);
CREATE INDEX IF NOT EXISTS outbox_unacked ON outbox (published_ms) WHERE published_ms IS NOT NULL;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS webhook (
    msg_id TEXT PRIMARY KEY, payload TEXT NOT NULL, created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS rejects (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms INTEGER NOT NULL, source TEXT NOT NULL, reason TEXT NOT NULL, payload BLOB NOT NULL
);
"""

_MAX_REJECTS = 1000

#: meta key of the edge-rule engine state (``edge_rules.state.state_to_json``).
RULES_STATE = "rules_state"


@dataclass(frozen=True, slots=True)
class Row:
    seq: int
    msg_id: str
    kind: Kind
    payload: str
    attempts: int


@dataclass(frozen=True, slots=True)
class Caps:
    max_bytes: int = 500 * 1024 * 1024
    max_age_ms: int = 30 * 24 * 3600 * 1000
    resend_after_ms: int = 60 * 1000
    resend_max_ms: int = 30 * 60 * 1000
    lease_ms: int = 60 * 1000


@dataclass(frozen=True, slots=True)
class Stats:
    depth: int
    bytes: int
    alerts: int
    unacked: int
    evicted_total: int
    oldest_created_ms: int | None


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class Outbox:
    """Synchronous SQLite outbox; one instance per connection, use from one thread."""

    def __init__(self, path: str | Path, caps: Caps | None = None) -> None:
        self.path = Path(path)
        self.caps = caps or Caps()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=5000")
        # 256 KiB page cache, not the default 2 MiB: the Pi gateway must stay small (RSS budget).
        self._db.execute("PRAGMA cache_size=-256")
        self._db.executescript(_SCHEMA)
        with self._tx():
            # Leases of rows that were never PUBACKed belong to a dead process.
            self._db.execute(
                "UPDATE outbox SET next_attempt_ms = 0 WHERE published_ms IS NULL"
                " AND next_attempt_ms > 0"
            )
        self._bytes = self._total_bytes()
        self._evicted = int(self._meta("evicted_total") or 0)

    # -- writes ------------------------------------------------------------------------

    def put(
        self, reading: Reading, alerts: Sequence[Alert] = (), now: int | None = None,
        state: str | None = None,
    ) -> None:
        """Store a reading and the alerts it caused, atomically — and, when given, the rule
        engine's ``state`` (meta ``rules_state``) in the same transaction, so a restart
        neither re-fires nor forgets an alert."""
        items: list[tuple[Kind, str, BaseModel]] = [(Kind.READING, reading.msg_id, reading)]
        items += [(Kind.ALERT, a.msg_id, a) for a in alerts]
        self._insert(items, now, state)

    def put_many(
        self, captured: Sequence[tuple[Reading, Sequence[Alert]]], now: int | None = None
    ) -> None:
        """Group commit: many readings (each with its alerts) in one transaction — for a
        meter's stored-record download or a backlog, where one fsync per row would cost
        ~3 ms each."""
        items: list[tuple[Kind, str, BaseModel]] = []
        for reading, alerts in captured:
            items.append((Kind.READING, reading.msg_id, reading))
            items += [(Kind.ALERT, a.msg_id, a) for a in alerts]
        self._insert(items, now)

    def put_event(self, event: GatewayEvent, now: int | None = None) -> None:
        self._insert([(Kind.EVENT, event.msg_id, event)], now)

    def put_alerts(
        self, alerts: Sequence[Alert], now: int | None = None, state: str | None = None
    ) -> None:
        """Alerts not tied to a new reading (e.g. a rule clearing on a timer), with the rule
        engine's state in the same transaction when given."""
        self._insert([(Kind.ALERT, a.msg_id, a) for a in alerts], now, state)

    def _insert(
        self, items: Iterable[tuple[Kind, str, BaseModel]], now: int | None,
        state: str | None = None,
    ) -> None:
        now = now_ms() if now is None else now
        rows = []
        for kind, msg_id, model in items:
            payload = model.model_dump_json(exclude_none=True)
            rows.append((msg_id, kind.value, PRIORITY[kind], payload, len(payload), now, now))
        with self._tx():
            # OR IGNORE: a msg_id is minted once, so a second put of it is a retry, not new data.
            cur = self._db.executemany(
                "INSERT OR IGNORE INTO outbox (msg_id, kind, priority, payload, size,"
                " created_ms, next_attempt_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            complete = cur.rowcount == len(rows)
            if state is not None:
                self._set_meta(RULES_STATE, state)
        if complete or not rows:
            self._bytes += sum(r[4] for r in rows)
        else:  # some were duplicates; recount exactly
            self._bytes = self._total_bytes()
        if self._bytes > self.caps.max_bytes:
            self.enforce_caps(now)

    def next_batch(
        self, limit: int, now: int | None = None, resend_only: bool = False
    ) -> list[Row]:
        """Lease up to ``limit`` due rows in (priority, seq) order.

        ``resend_only``: only rows published before (used while too many are unacked, so
        new rows wait but a lost ack is still repaired by a resend).
        """
        now = now_ms() if now is None else now
        only = " AND published_ms IS NOT NULL" if resend_only else ""
        with self._tx():
            found = self._db.execute(
                "SELECT seq, msg_id, kind, payload, attempts FROM outbox"
                f" WHERE next_attempt_ms <= ?{only} ORDER BY priority, seq LIMIT ?",
                (now, limit),
            ).fetchall()
            if found:
                self._db.executemany(
                    "UPDATE outbox SET next_attempt_ms = ? WHERE seq = ?",
                    [(now + self.caps.lease_ms, r[0]) for r in found],
                )
        return [Row(seq, msg_id, Kind(kind), payload, attempts)
                for seq, msg_id, kind, payload, attempts in found]

    def release(self, msg_ids: Sequence[str], now: int | None = None) -> None:
        """The publish failed: make these rows due again right away."""
        now = now_ms() if now is None else now
        with self._tx():
            self._db.executemany(
                "UPDATE outbox SET next_attempt_ms = ? WHERE msg_id = ?",
                [(now, m) for m in msg_ids],
            )

    def mark_published(self, msg_ids: Sequence[str], now: int | None = None) -> None:
        """The broker has them (PUBACK); resend after the timeout unless the cloud acks.

        First publish: due again after exactly ``resend_after``. The n-th resend waits
        ``min(resend_max, resend_after·2ⁿ)``, of which a random half (per row) is taken
        off ("equal jitter"): rows of one burst spread out instead of returning together.
        """
        now = now_ms() if now is None else now
        c = self.caps
        with self._tx():
            # `attempts` on the right-hand side is the value before this update.
            self._db.executemany(
                "UPDATE outbox SET published_ms = ?1, attempts = attempts + 1,"
                " next_attempt_ms = ?1 + CASE WHEN attempts = 0 THEN ?2 ELSE"
                "  CAST(MIN(?3, ?2 << MIN(attempts, 24))"
                "       * (0.5 + (random() & 1048575) / 2097152.0) AS INTEGER) END"
                " WHERE msg_id = ?4",
                [(now, c.resend_after_ms, max(c.resend_max_ms, c.resend_after_ms), m)
                 for m in msg_ids],
            )

    def resend_unacked(self, published_before: int, now: int | None = None) -> int:
        """Make the rows published before ``published_before`` (the reconnect) and still
        unacked due now; returns how many were waiting for their resend time. Rows
        published on the new connection keep their timer."""
        now = now_ms() if now is None else now
        with self._tx():
            cur = self._db.execute(
                "UPDATE outbox SET next_attempt_ms = ? WHERE published_ms IS NOT NULL"
                " AND published_ms < ? AND next_attempt_ms > ?", (now, published_before, now))
        return cur.rowcount

    def ack(self, msg_ids: Sequence[str]) -> int:
        """The cloud stored these durably: delete them. Unknown ids are ignored."""
        freed = 0
        deleted = 0
        with self._tx():
            for m in msg_ids:
                got = self._db.execute(
                    "DELETE FROM outbox WHERE msg_id = ? RETURNING size", (m,)
                ).fetchone()
                if got is not None:
                    freed += got[0]
                    deleted += 1
        self._bytes -= freed
        return deleted

    def enforce_caps(self, now: int | None = None) -> int:
        """Evict the oldest non-alert rows beyond the age and byte caps. Alerts stay."""
        now = now_ms() if now is None else now
        evicted = self._evict("age", "created_ms < ?", (now - self.caps.max_age_ms,))
        while self._bytes > self.caps.max_bytes:
            n = self._evict("bytes", "1", (), limit=500)
            evicted += n
            if n == 0:
                break  # only alerts left: they are never evicted
        return evicted

    def _evict(self, reason: str, where: str, args: tuple[int, ...], limit: int = -1) -> int:
        with self._tx():
            gone = self._db.execute(
                f"DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox WHERE kind != 'alert'"
                f" AND {where} ORDER BY seq LIMIT {int(limit)}) RETURNING msg_id, kind, size",
                args,
            ).fetchall()
            if gone:
                self._evicted += len(gone)
                self._set_meta("evicted_total", str(self._evicted))
        if gone:
            self._bytes -= sum(g[2] for g in gone)
            ids = sorted(g[0] for g in gone)
            log.warning(
                "outbox cap (%s): evicted %d rows (%s .. %s), evicted_total=%d",
                reason, len(gone), ids[0], ids[-1], self._evicted,
            )
            for msg_id, kind, _ in gone:
                log.debug("evicted %s %s", kind, msg_id)
        return len(gone)

    # -- metadata and rejects ----------------------------------------------------------

    def set_meta(self, key: str, value: str) -> None:
        with self._tx():
            self._set_meta(key, value)

    def get_meta(self, key: str) -> str | None:
        return self._meta(key)

    def record_reject(
        self, source: str, reason: str, payload: bytes, now: int | None = None
    ) -> None:
        """Keep a malformed inbound message for a human (bounded to the last 1000)."""
        now = now_ms() if now is None else now
        with self._tx():
            self._db.execute(
                "INSERT INTO rejects (at_ms, source, reason, payload) VALUES (?, ?, ?, ?)",
                (now, source, reason, payload[:65536]),
            )
            self._db.execute(
                "DELETE FROM rejects WHERE id <= (SELECT MAX(id) FROM rejects) - ?", (_MAX_REJECTS,)
            )

    def rejects(self) -> list[tuple[str, str, bytes]]:
        return [(s, r, bytes(p)) for s, r, p in
                self._db.execute("SELECT source, reason, payload FROM rejects ORDER BY id")]

    # -- the webhook sink's queue (survives restarts) ------------------------------------

    def webhook_put(self, msg_id: str, payload: str, now: int | None = None) -> None:
        now = now_ms() if now is None else now
        with self._tx():
            self._db.execute("INSERT OR IGNORE INTO webhook (msg_id, payload, created_ms)"
                             " VALUES (?, ?, ?)", (msg_id, payload, now))

    def webhook_done(self, msg_id: str) -> None:
        with self._tx():
            self._db.execute("DELETE FROM webhook WHERE msg_id = ?", (msg_id,))

    def webhook_pending(self) -> list[str]:
        return [p for (p,) in self._db.execute("SELECT payload FROM webhook ORDER BY rowid")]

    # -- reads -------------------------------------------------------------------------

    def stats(self) -> Stats:
        depth, alerts, oldest = self._db.execute(
            "SELECT COUNT(*), COALESCE(SUM(kind = 'alert'), 0), MIN(created_ms) FROM outbox"
        ).fetchone()
        unacked = self._db.execute(
            "SELECT COUNT(*) FROM outbox WHERE published_ms IS NOT NULL"
        ).fetchone()[0]
        return Stats(depth, self._bytes, alerts, unacked, self._evicted, oldest)

    def unacked(self) -> int:
        return int(self._db.execute(
            "SELECT COUNT(*) FROM outbox WHERE published_ms IS NOT NULL").fetchone()[0])

    def msg_ids(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT msg_id FROM outbox ORDER BY seq")]

    def close(self) -> None:
        self._db.close()

    # -- helpers -----------------------------------------------------------------------

    def _tx(self) -> _Transaction:
        return _Transaction(self._db)

    def _total_bytes(self) -> int:
        return int(self._db.execute("SELECT COALESCE(SUM(size), 0) FROM outbox").fetchone()[0])

    def _meta(self, key: str) -> str | None:
        got = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if got is None else str(got[0])

    def _set_meta(self, key: str, value: str) -> None:
        self._db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )


def inspect(path: str | Path) -> tuple[Stats, dict[str, str], int]:
    """Read-only look at an outbox file (safe while the gateway runs): stats, meta, rejects."""
    db = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True)
    try:
        depth, alerts, oldest, size, unacked = db.execute(
            "SELECT COUNT(*), COALESCE(SUM(kind = 'alert'), 0), MIN(created_ms),"
            " COALESCE(SUM(size), 0), COALESCE(SUM(published_ms IS NOT NULL), 0) FROM outbox"
        ).fetchone()
        meta = {str(k): str(v) for k, v in db.execute("SELECT key, value FROM meta")}
        rejects = int(db.execute("SELECT COUNT(*) FROM rejects").fetchone()[0])
    finally:
        db.close()
    evicted = int(meta.get("evicted_total", "0"))
    return Stats(depth, size, alerts, unacked, evicted, oldest), meta, rejects


class _Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (or ``ROLLBACK`` on error)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._db.execute("COMMIT" if exc_type is None else "ROLLBACK")


def _log_unawaited_error(fut: asyncio.Future[Any]) -> None:
    # Retrieve the exception so asyncio doesn't complain; an awaiting caller gets it anyway.
    if not fut.cancelled() and (exc := fut.exception()) is not None:
        log.debug("outbox call failed: %r", exc)


class AsyncOutbox:
    """The outbox for asyncio code: every call runs on one dedicated thread, in order.

    Cancelling an awaiting caller does not abort the SQLite call already running: the
    transaction finishes on its thread, and :meth:`close` waits for it.
    """

    def __init__(self, path: str | Path, caps: Caps | None = None) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox")
        self.sync = self._pool.submit(Outbox, path, caps).result()

    async def _call(self, fn: Callable[..., T], *args: object) -> T:
        return await self._submit(fn, *args)

    def _submit(self, fn: Callable[..., T], *args: object) -> asyncio.Future[T]:
        """Queue ``fn`` on the outbox thread now; the call runs to its end even if nobody
        awaits the future (a cancelled caller), and its error is then only logged."""
        fut = asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)
        fut.add_done_callback(_log_unawaited_error)
        return fut

    def begin_put(
        self, reading: Reading, alerts: Sequence[Alert] = (), state: str | None = None
    ) -> asyncio.Future[None]:
        """Start :meth:`Outbox.put` on the outbox thread and return at once: the caller
        can do other work (warn the family) while the transaction commits, then await it."""
        return self._submit(self.sync.put, reading, tuple(alerts), None, state)

    def begin_put_alerts(
        self, alerts: Sequence[Alert], state: str | None = None
    ) -> asyncio.Future[None]:
        return self._submit(self.sync.put_alerts, tuple(alerts), None, state)

    async def put(
        self, reading: Reading, alerts: Sequence[Alert] = (), state: str | None = None
    ) -> None:
        await self.begin_put(reading, alerts, state)

    async def put_many(self, captured: Sequence[tuple[Reading, Sequence[Alert]]]) -> None:
        await self._call(self.sync.put_many, captured)

    async def put_event(self, event: GatewayEvent) -> None:
        await self._call(self.sync.put_event, event)

    async def put_alerts(self, alerts: Sequence[Alert], state: str | None = None) -> None:
        await self.begin_put_alerts(alerts, state)

    async def get_meta(self, key: str) -> str | None:
        return await self._call(self.sync.get_meta, key)

    async def rejects(self) -> list[tuple[str, str, bytes]]:
        return await self._call(self.sync.rejects)

    async def next_batch(self, limit: int, resend_only: bool = False) -> list[Row]:
        return await self._call(self.sync.next_batch, limit, None, resend_only)

    async def release(self, msg_ids: Sequence[str]) -> None:
        await self._call(self.sync.release, msg_ids)

    async def mark_published(self, msg_ids: Sequence[str]) -> None:
        await self._call(self.sync.mark_published, msg_ids)

    def begin_webhook_put(self, msg_id: str, payload: str) -> asyncio.Future[None]:
        return self._submit(self.sync.webhook_put, msg_id, payload)

    def begin_webhook_done(self, msg_id: str) -> asyncio.Future[None]:
        return self._submit(self.sync.webhook_done, msg_id)

    async def webhook_pending(self) -> list[str]:
        return await self._call(self.sync.webhook_pending)

    async def resend_unacked(self, published_before: int) -> int:
        return await self._call(self.sync.resend_unacked, published_before)

    async def ack(self, msg_ids: Sequence[str]) -> int:
        return await self._call(self.sync.ack, msg_ids)

    async def enforce_caps(self) -> int:
        return await self._call(self.sync.enforce_caps)

    async def set_meta(self, key: str, value: str) -> None:
        await self._call(self.sync.set_meta, key, value)

    async def record_reject(self, source: str, reason: str, payload: bytes) -> None:
        await self._call(self.sync.record_reject, source, reason, payload)

    async def stats(self) -> Stats:
        return await self._call(self.sync.stats)

    async def unacked(self) -> int:
        return await self._call(self.sync.unacked)

    def close(self) -> None:
        """Wait for the running call (an in-flight transaction completes), then close."""
        self._pool.submit(self.sync.close).result()
        self._pool.shutdown(wait=True)
