"""Shared rig for the scale-out and chaos tests: fleet, workers, stores, session probe."""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy import Engine, select

from cloud_api.db.models import DeadLetterRow, ReadingRow
from cloud_api.ingest.config import BrokerAddress, IngestConfig
from cloud_api.ingest.series import SeriesSink
from cloud_api.ingest.sinks import SqlStore
from cloud_api.ingest.worker import IngestWorker
from cloud_api.tsdb.config import InfluxConfig
from cloud_api.tsdb.influx_v1 import InfluxV1Store
from firmware_sim.fleet import FleetSpec
from firmware_sim.services import Influxd, ManagedProcess, Mosquitto, spawn

REPO = Path(__file__).resolve().parents[3]


def spec(broker: Mosquitto, gateways: int, readings: int, **kw: float) -> FleetSpec:
    return FleetSpec(gateways=gateways, readings_per_gateway=readings, host=broker.host,
                     port=broker.port, **kw)  # type: ignore[arg-type]


def worker_config(broker: Mosquitto, worker_id: str) -> IngestConfig:
    return IngestConfig(worker_id, BrokerAddress(broker.host, broker.port),
                        backoff_initial_s=0.1, backoff_max_s=1.0)


def influx_config(influxd: Influxd, database: str, **kw: float) -> InfluxConfig:
    return InfluxConfig(url=influxd.url, database=database, **kw)


async def fresh_influx(influxd: Influxd, **kw: float) -> InfluxV1Store:
    store = InfluxV1Store(influx_config(influxd, f"t{uuid.uuid4().hex[:12]}", **kw))
    await store.ensure_database()
    return store


@asynccontextmanager
async def running(*workers: IngestWorker) -> AsyncIterator[None]:
    """Run in-process workers until the block ends (cancel = clean disconnect, session kept)."""
    tasks = [asyncio.create_task(w.run()) for w in workers]
    try:
        await asyncio.wait_for(asyncio.gather(*(w.connected.wait() for w in workers)), 15)
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def series_worker(broker: Mosquitto, worker_id: str, engine: Engine,
                  series: InfluxV1Store) -> IngestWorker:
    archive = SqlStore(engine)
    return IngestWorker(worker_config(broker, worker_id), SeriesSink(archive, series), archive)


def start_worker_process(broker: Mosquitto, db_url: str, workdir: Path, worker_id: str,
                         run: int, tsdb: list[str]) -> ManagedProcess:
    proc = spawn(f"{worker_id}-run{run}", [
        sys.executable, "-m", "cloud_api.ingest", "-v", "--id", worker_id,
        "--broker", f"mqtt://{broker.host}:{broker.port}", "--db", db_url, *tsdb,
    ], workdir, env={"PYTHONPATH": str(REPO)})
    deadline = time.monotonic() + 30
    while "subscribed" not in proc.log():
        if proc.proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"worker did not subscribe:\n{proc.log()}")
        time.sleep(0.05)
    return proc


def archived_ids(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(select(ReadingRow.msg_id)).all())


def dead_letter_reasons(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(select(DeadLetterRow.reason)).all())


def session_present(broker: Mosquitto, client_id: str) -> bool:
    """Does the broker hold a session for ``client_id``? Probes without leaving one behind
    (clean_start=False to see it, Session Expiry 0 so our probe's session ends with us)."""
    seen: list[bool] = []
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                         protocol=paho.MQTTv5)
    client.on_connect = lambda c, u, flags, rc, props: seen.append(flags.session_present)
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = 0
    client.connect(broker.host, broker.port, clean_start=False, properties=props)
    deadline = time.monotonic() + 5
    while not seen and time.monotonic() < deadline:
        client.loop(0.1)
    client.disconnect()
    assert seen, "the probe could not connect"
    return seen[0]
