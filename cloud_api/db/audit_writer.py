"""Write-behind audit for reads: events queued in memory, inserted in batches.

Every API read of patient data is audited. Writing that row in the request's own
transaction made every read a write: on SQLite, one writer at a time and one fsync per
commit, so concurrent reads queued behind each other's audit commits. Reads hand their
event to :class:`AuditRecorder` instead; a task owned by the app's lifespan inserts what
has queued up in ONE transaction every ``interval_s`` (or as soon as ``batch`` events are
waiting), and once more at shutdown.

The trade-off (docs/api.md, "Audit"): a read's row becomes durable up to ``interval_s``
after the response, so a crash of the process (kill -9, power loss) in that window loses
those rows; a clean shutdown loses nothing. ``write_behind=False``
(``HOMERPM_AUDIT_WRITE_BEHIND=false``) writes each row before the response, at the old
cost. Changes (writes) are not affected: they keep their audit row in their own
transaction (:func:`cloud_api.db.audit.record`).

Nothing is dropped on purpose: when more than ``max_pending`` events wait (the database
is stuck), the caller writes its own row synchronously and an error is logged; a failed
batch is put back and retried; events still unwritten at shutdown are logged in full.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import anyio
from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from cloud_api.db.models import AuditRow
from vitals.readings import now_utc

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AuditEvent:
    actor: str
    action: str
    actor_id: int | None = None
    patient_id: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    at: datetime = field(default_factory=now_utc)


class AuditRecorder:
    """Thread-safe: sync route handlers call :meth:`record` from the threadpool."""

    def __init__(self, sessions: sessionmaker[Session], *, interval_s: float = 0.1,
                 batch: int = 500, max_pending: int = 20_000, write_behind: bool = True) -> None:
        self._sessions = sessions
        self.write_behind = write_behind  # False: every event is written before record returns
        self.interval_s, self.batch, self.max_pending = interval_s, batch, max_pending
        self._pending: list[AuditEvent] = []
        self._lock = threading.Lock()  # guards _pending and _closed
        self._write_lock = threading.Lock()  # one batch at a time: rows keep arrival order
        self._closed = False
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.overflows = 0

    def record(self, actor: str, action: str, *, actor_id: int | None = None,
               patient_id: str | None = None, detail: dict[str, Any] | None = None) -> None:
        event = AuditEvent(actor, action, actor_id, patient_id, detail or {})
        with self._lock:
            queued = (self.write_behind and not self._closed
                      and len(self._pending) < self.max_pending)
            if queued:
                self._pending.append(event)
            waiting = len(self._pending)
        if not queued:
            if self.write_behind and not self._closed:
                self.overflows += 1
                log.error("AUDIT QUEUE FULL (%d events waiting; database stuck?): writing "
                          "%s for %s synchronously", waiting, action, actor)
            self._write_now([event])
        elif waiting >= self.batch:
            self._notify()

    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def flush(self) -> int:
        """Write everything queued so far, now, from any thread; returns the row count.
        On a database error the events go back to the front of the queue and it raises."""
        with self._write_lock:
            with self._lock:
                events, self._pending = self._pending, []
            if events:
                try:
                    self._insert(events)
                except Exception:
                    with self._lock:
                        self._pending[:0] = events
                    raise
            return len(events)

    async def run(self) -> None:
        """The flush loop; start it in the app's task group. Cancelling it flushes."""
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        try:
            while True:
                with anyio.move_on_after(self.interval_s):
                    await self._wake.wait()
                self._wake.clear()
                try:
                    await anyio.to_thread.run_sync(self.flush)
                except Exception:
                    log.exception("audit batch failed (%d events waiting); retrying",
                                  self.pending())
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(self.close)

    def close(self) -> None:
        """Final flush; later events are written synchronously, one by one."""
        with self._lock:
            self._closed = True
        try:
            self.flush()
        except Exception:
            lost = [asdict(e) for e in self._pending]
            log.exception("AUDIT EVENTS NOT WRITTEN at shutdown (%d): %r", len(lost), lost)

    def _notify(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            loop.call_soon_threadsafe(wake.set)

    def _write_now(self, events: list[AuditEvent]) -> None:
        with self._write_lock:
            self._insert(events)

    def _insert(self, events: list[AuditEvent]) -> None:
        with self._sessions.begin() as db:
            db.execute(insert(AuditRow), [
                {"at": e.at, "actor": e.actor, "actor_id": e.actor_id, "action": e.action,
                 "patient_id": e.patient_id, "detail": e.detail} for e in events])
