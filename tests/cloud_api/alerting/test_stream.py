"""SSE end to end: a gateway alert published to a real mosquitto, stored by an ingest
worker *process*, appears on the API's stream (uvicorn on loopback) — so events travel
through the database, not process memory; resume with Last-Event-ID."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiomqtt
import httpx
import pytest
import uvicorn
from sqlalchemy import Engine, select

from cloud_api.api.app import create_app
from cloud_api.db.models import AuditRow
from cloud_api.settings import CloudSettings
from firmware_sim.services import ManagedProcess, Mosquitto, spawn
from tests.cloud_api.alerting.helpers import gateway_alert, store
from tests.cloud_api.factories import T0
from vitals.topics import TopicKind, topic
from vitals.wire import AlertsBatch, encode

pytestmark = [pytest.mark.services]
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def ingest_process(engine: Engine, db_url: str, mosquitto: Mosquitto,
                   tmp_path: Path) -> Iterator[ManagedProcess]:
    proc = spawn("ingest", [sys.executable, "-m", "cloud_api.ingest", "-v", "--id", "ingest-sse",
                            "--broker", f"mqtt://{mosquitto.host}:{mosquitto.port}",
                            "--db", db_url], tmp_path / "ingest", env={"PYTHONPATH": str(REPO)})
    try:
        deadline = time.monotonic() + 20
        while "subscribed" not in proc.log():
            assert proc.proc.poll() is None and time.monotonic() < deadline, proc.log()
            time.sleep(0.05)
        yield proc
    finally:
        proc.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def api(engine: Engine, db_url: str) -> AsyncIterator[str]:
    settings = CloudSettings(database_url=db_url, alerting_loops=False, sse_poll_s=0.05,
                             sse_keepalive_s=0.2,
                             jwt_secret="test-secret-of-at-least-32-bytes-length")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())
    for _ in range(100):
        if server.started:
            break
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


async def events(lines: AsyncIterator[str], count: int) -> tuple[list[dict[str, str]], int]:
    """Read ``count`` events (0: until the first keep-alive comment)."""
    out: list[dict[str, str]] = []
    current: dict[str, str] = {}
    comments = 0
    async for line in lines:
        if line.startswith(": keep-alive"):
            comments += 1
            if count == 0:
                break
        elif line.startswith(":"):
            continue
        elif line == "":
            if "data" in current:
                out.append(current)
                current = {}
                if len(out) == count:
                    break
        else:
            name, _, value = line.partition(": ")
            current[name] = value
    return out, comments


async def test_ingested_gateway_alert_reaches_the_stream_and_resume_works(
    mosquitto: Mosquitto, ingest_process: ManagedProcess, api: str
) -> None:
    async with httpx.AsyncClient(base_url=api, timeout=10) as http:
        r = await http.post("/api/v1/auth/token", data={"username": "demo",
                                                         "password": "demo"})
        auth = {"Authorization": f"Bearer {r.json()['access_token']}"}
        assert (await http.get("/api/v1/stream")).status_code == 401
        async with http.stream("GET", "/api/v1/stream", headers=auth) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            alert = gateway_alert()
            other = gateway_alert(patient="other-patient")
            async with aiomqtt.Client(mosquitto.host, mosquitto.port) as gw:
                await gw.publish(topic("gw-other", TopicKind.ALERTS), encode(AlertsBatch(
                    gateway="gw-other", sent_at=T0, items=(other,))), qos=1)
                await gw.publish(topic("gw-demo-1", TopicKind.ALERTS), encode(AlertsBatch(
                    gateway="gw-demo-1", sent_at=T0, items=(alert,))), qos=1)
            [raised], _ = await asyncio.wait_for(events(stream.aiter_lines(), 1), 15)
        data = json.loads(raised["data"])
        assert raised["event"] == "alert.raised" and data["alert_id"] == alert.alert_id
        assert data["detail"]["rule_id"] == "glucose_low"  # other-clinic's alert not shown
        r = await http.post(f"/api/v1/alerts/{alert.alert_id}/acknowledge", headers=auth)
        assert r.status_code == 200
        resume = {**auth, "Last-Event-ID": raised["id"]}
        async with http.stream("GET", "/api/v1/stream", headers=resume) as stream:
            lines = stream.aiter_lines()
            [acked], _ = await asyncio.wait_for(events(lines, 1), 15)
            assert acked["event"] == "alert.acknowledged"
            assert int(acked["id"]) > int(raised["id"])
            more, comments = await asyncio.wait_for(events(lines, 0), 5)
            assert more == [] and comments == 1  # idle stream: keep-alive comments only


async def test_an_event_written_just_after_the_stream_opens_is_not_missed(
    engine: Engine, api: str
) -> None:
    """A dashboard shows "live" when the response headers arrive; an alert stored a moment
    later must still come down the stream. Regression check: the start cursor used to be
    taken after the headers had gone out, a narrow race that a loaded machine could hit."""
    async with httpx.AsyncClient(base_url=api, timeout=10) as http:
        r = await http.post("/api/v1/auth/token", data={"username": "demo", "password": "demo"})
        auth = {"Authorization": f"Bearer {r.json()['access_token']}"}
        async with http.stream("GET", "/api/v1/stream", headers=auth) as stream:
            alert = gateway_alert()
            # Written with the event loop blocked, i.e. before the server's stream body runs.
            writer = threading.Thread(target=store, args=(engine, alert))
            writer.start()
            writer.join()
            [raised], _ = await asyncio.wait_for(events(stream.aiter_lines(), 1), 10)
    assert json.loads(raised["data"])["alert_id"] == alert.alert_id


async def test_a_stream_opens_while_another_writer_holds_the_database_lock(
    engine: Engine, api: str
) -> None:
    """The handler is async: a synchronous audit write in it used to wait for SQLite's write
    lock on the event loop, stalling every request of that API process (dashboard pages
    stuck on "Loading…", then "database is locked"). Its audit event is now written behind."""
    held, release, expired = threading.Event(), threading.Event(), threading.Event()

    def hold_the_lock() -> None:  # in a thread: the API shares this test's event loop
        with engine.begin() as conn:  # SQLite: BEGIN IMMEDIATE, the database's write lock
            if engine.dialect.name == "postgresql":
                conn.exec_driver_sql("LOCK TABLE audit_log IN EXCLUSIVE MODE")
            held.set()
            if not release.wait(15):
                expired.set()  # the API waited for us, rather than us for the API

    async with httpx.AsyncClient(base_url=api, timeout=30) as http:
        r = await http.post("/api/v1/auth/token", data={"username": "demo", "password": "demo"})
        auth = {"Authorization": f"Bearer {r.json()['access_token']}"}
        holder = threading.Thread(target=hold_the_lock)
        holder.start()
        try:
            assert held.wait(10)
            async with http.stream("GET", "/api/v1/stream", headers=auth) as stream:
                assert stream.status_code == 200
                await anext(stream.aiter_lines())
                assert (await http.get("/api/v1/patients", headers=auth)).status_code == 200
            assert not expired.is_set(), "the stream waited for the write lock"
        finally:
            release.set()
            holder.join()
    for _ in range(200):  # the audit event lands once the lock is free
        with engine.connect() as db:  # closed before sleeping: on SQLite it holds the lock
            if db.scalar(select(AuditRow.id).where(AuditRow.action == "stream.open")):
                break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("stream.open was never audited")
