"""Kill the worker process mid-stream, restart it with the same id: nothing lost, nothing doubled.

Also: ``--retire`` deletes a worker's session so its share is not stranded at the broker.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import time
from pathlib import Path

import aiomqtt
import pytest
from sqlalchemy import Engine, func, select

from cloud_api.db.models import ReadingRow
from cloud_api.ingest.config import BrokerAddress, IngestConfig
from cloud_api.ingest.sinks import SqlStore
from cloud_api.ingest.worker import IngestWorker, retire
from firmware_sim.services import ManagedProcess, Mosquitto, spawn
from tests.cloud_api.factories import bp, readings_payload
from vitals.topics import TopicKind, topic

V5 = aiomqtt.ProtocolVersion.V5
NODELAY = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]  # else ~40 ms per QoS 1 publish
pytestmark = [pytest.mark.services, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[3]
GW = "gw-demo-1"


def start_worker(mosquitto: Mosquitto, db_url: str, workdir: Path, worker_id: str,
                 run: int) -> ManagedProcess:
    proc = spawn(f"{worker_id}-run{run}", [
        sys.executable, "-m", "cloud_api.ingest", "-v", "--id", worker_id,
        "--broker", f"mqtt://{mosquitto.host}:{mosquitto.port}", "--db", db_url,
        "--tsdb", f"sqlite:{workdir}/tsdb.sqlite3",  # never the cwd-relative default
    ], workdir, env={"PYTHONPATH": str(REPO)})
    deadline = time.monotonic() + 20
    while "subscribed" not in proc.log():
        if proc.proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"worker did not subscribe:\n{proc.log()}")
        time.sleep(0.05)
    return proc


def stored(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count(ReadingRow.msg_id))) or 0)


async def wait_stored(engine: Engine, n: int, within: float = 30) -> None:
    deadline = time.monotonic() + within
    while stored(engine) < n and time.monotonic() < deadline:  # noqa: ASYNC110 - polls the DB
        await asyncio.sleep(0.1)


async def test_kill_and_restart_stores_every_message_once(
    engine: Engine, db_url: str, mosquitto: Mosquitto, tmp_path: Path
) -> None:
    total = 300
    items = [bp(minutes=i) for i in range(total)]
    worker = start_worker(mosquitto, db_url, tmp_path, "ingest-0", run=1)
    try:
        async with aiomqtt.Client(mosquitto.host, mosquitto.port, identifier="test-gw",
                                  protocol=V5, socket_options=NODELAY) as gw:
            gw.pending_calls_threshold = total
            for i, item in enumerate(items):
                await gw.publish(topic(GW, TopicKind.READINGS), readings_payload(GW, item), qos=1)
                if i == total // 3:
                    await wait_stored(engine, 1)
                    worker.kill()  # SIGKILL mid-stream: unacked messages stay at the broker
                    killed_at = stored(engine)
        assert 0 < killed_at < total, "the kill must land mid-stream for this test to mean much"
        worker = start_worker(mosquitto, db_url, tmp_path, "ingest-0", run=2)
        await wait_stored(engine, total)
        await asyncio.sleep(0.5)  # any duplicate delivery would have arrived by now
    finally:
        worker.stop()
    with engine.connect() as conn:
        ids = conn.scalars(select(ReadingRow.msg_id)).all()
    assert sorted(ids) == sorted(i.msg_id for i in items)


async def test_retire_deletes_the_session_so_no_share_is_stranded(
    engine: Engine, mosquitto: Mosquitto
) -> None:
    def cfg(worker_id: str) -> IngestConfig:
        return IngestConfig(worker_id, BrokerAddress(mosquitto.host, mosquitto.port))

    store = SqlStore(engine)
    # ingest-0 joins the shared group with a persistent session, then goes away for good.
    old = IngestWorker(cfg("ingest-0"), store, store)
    task = asyncio.create_task(old.run())
    await asyncio.wait_for(old.connected.wait(), 10)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await retire(cfg("ingest-0"))

    survivor = IngestWorker(cfg("ingest-1"), store, store)
    task = asyncio.create_task(survivor.run())
    try:
        await asyncio.wait_for(survivor.connected.wait(), 10)
        async with aiomqtt.Client(mosquitto.host, mosquitto.port,
                                  protocol=V5, socket_options=NODELAY) as gw:
            for i in range(10):
                await gw.publish(topic(GW, TopicKind.READINGS),
                                 readings_payload(GW, bp(minutes=i)), qos=1)
        # Without the retire, mosquitto would queue about half of these for ingest-0.
        await wait_stored(engine, 10, within=10)
        assert stored(engine) == 10
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
