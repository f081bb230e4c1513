"""The write-behind audit recorder: nothing recorded is lost — not under concurrent
threads, not at shutdown, not when the queue overflows, not when a batch fails."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import anyio
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cloud_api.api.app import create_app
from cloud_api.db.audit_writer import AuditRecorder
from cloud_api.db.engine import make_engine, session_factory
from cloud_api.db.migrate import upgrade
from cloud_api.db.models import AuditRow
from cloud_api.settings import CloudSettings
from tests.cloud_api.api.test_app import store_readings
from tests.cloud_api.world import SECRET


def rows(engine: Engine, actor: str | None = None) -> list[AuditRow]:
    query = select(AuditRow).order_by(AuditRow.id)
    if actor is not None:
        query = query.where(AuditRow.actor == actor)
    with Session(engine) as db:
        return list(db.scalars(query))


def test_events_from_many_threads_are_all_written_in_order_by_the_loop(engine: Engine) -> None:
    recorder = AuditRecorder(session_factory(engine), interval_s=0.05, batch=7)

    def reader(n: int) -> None:
        for i in range(50):
            recorder.record(f"t{n}", "readings.read", patient_id="demo-patient-1",
                            detail={"i": i})

    async def main() -> None:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(recorder.run)
            threads = [threading.Thread(target=reader, args=(n,)) for n in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                await anyio.to_thread.run_sync(t.join)
            tasks.cancel_scope.cancel()  # shutdown: the final flush writes the rest

    anyio.run(main)
    for n in range(4):
        assert [r.detail["i"] for r in rows(engine, f"t{n}")] == list(range(50))
    assert recorder.pending() == 0


def test_overflow_writes_synchronously_and_logs_loudly(
    engine: Engine, caplog: pytest.LogCaptureFixture,
) -> None:
    recorder = AuditRecorder(session_factory(engine), max_pending=2)
    with caplog.at_level(logging.ERROR):
        for i in range(5):
            recorder.record("doc", "patients.list", detail={"i": i})
    assert sorted(r.detail["i"] for r in rows(engine, "doc")) == [2, 3, 4]  # not queued
    assert recorder.overflows == 3 and "AUDIT QUEUE FULL" in caplog.text
    assert recorder.flush() == 2
    assert sorted(r.detail["i"] for r in rows(engine, "doc")) == [0, 1, 2, 3, 4]


def test_a_failed_batch_is_kept_and_written_by_the_next_flush(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/late.db")  # no schema yet: inserts fail
    try:
        recorder = AuditRecorder(session_factory(engine))
        recorder.record("doc", "readings.read", patient_id="p1")
        recorder.record("doc", "readings.read", patient_id="p2")
        with pytest.raises(Exception, match="audit_log"):
            recorder.flush()
        assert recorder.pending() == 2
        upgrade(engine)
        assert recorder.flush() == 2
        assert [r.patient_id for r in rows(engine, "doc")] == ["p1", "p2"]
    finally:
        engine.dispose()


def test_after_close_events_are_written_at_once(engine: Engine) -> None:
    recorder = AuditRecorder(session_factory(engine))
    recorder.record("doc", "patients.list")
    recorder.close()
    recorder.record("doc", "readings.read")
    assert [r.action for r in rows(engine, "doc")] == ["patients.list", "readings.read"]
    assert recorder.overflows == 0


def test_without_write_behind_each_event_is_written_before_record_returns(
    engine: Engine,
) -> None:
    recorder = AuditRecorder(session_factory(engine), write_behind=False)
    recorder.record("doc", "readings.read", patient_id="demo-patient-1")
    assert [(r.action, r.patient_id) for r in rows(engine, "doc")] == [
        ("readings.read", "demo-patient-1")]
    assert recorder.pending() == 0 and recorder.overflows == 0


def test_every_api_read_is_written_at_shutdown(engine: Engine, db_url: str) -> None:
    store_readings(engine, 3)
    # Flushes 5 s apart: within this short test only the shutdown flush writes the reads.
    settings = CloudSettings(database_url=db_url, jwt_secret=SECRET, audit_flush_s=5,
                             alerting_loops=False)
    requests = [
        "/api/v1/patients", "/api/v1/patients/demo-patient-1/readings",
        "/api/v1/patients/other-patient/readings", "/api/v1/alerts?state=raised",
        "/api/v1/alerts/01NOSUCHALERT0000000000000",
    ] * 3
    with TestClient(create_app(settings)) as client:
        token = client.post("/api/v1/auth/token",
                            data={"username": "demo", "password": "demo"})
        auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
        for path in requests:
            assert client.get(path, headers=auth).status_code in (200, 404)
    # The app has shut down; its lifespan flushed the queue.
    actions = [r.action for r in rows(engine, "demo") if r.action != "login"]
    assert actions == ["patients.list", "readings.read", "readings.denied", "alerts.list",
                       "alert.denied"] * 3
