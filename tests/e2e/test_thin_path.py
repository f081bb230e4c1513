"""The thin real path, end to end through real processes and a real broker.

simulated cuff → gateway (device task, pipeline, SQLite outbox, MQTT uplink) → mosquitto →
ingest worker → SQLite store → API. Every msg_id the gateway published must be stored and
listed by the API exactly once, and the gateway's outbox must empty (every row acked).
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import time
from pathlib import Path

import aiomqtt
import httpx
import pytest

from cloud_api.api.app import create_app
from cloud_api.settings import CloudSettings
from firmware_sim.services import ManagedProcess, Mosquitto, spawn
from gateway.outbox import inspect
from vitals import wire
from vitals.topics import TopicKind, subscription

pytestmark = [pytest.mark.services, pytest.mark.slow]

READINGS = 25


def homerpm(*argv: str) -> list[str]:
    return [sys.executable, "-m", "vitals.cli", *argv]


def run(argv: list[str], workdir: Path) -> None:
    process = spawn(argv[4].replace("-", "_"), argv, workdir)
    assert process.proc.wait(120) == 0, process.log()


async def watch_uplink(broker: Mosquitto, seen: list[str], ready: asyncio.Event) -> None:
    """Record every reading msg_id that crosses the broker (retries included)."""
    async with aiomqtt.Client(broker.host, broker.port, protocol=aiomqtt.ProtocolVersion.V5) as c:
        await c.subscribe(subscription(TopicKind.READINGS), qos=1)
        ready.set()
        async for message in c.messages:
            batch = wire.decode(message.payload)  # type: ignore[arg-type]
            assert isinstance(batch, wire.ReadingsBatch)
            seen.extend(item.msg_id for item in batch.items)


async def test_simulated_cuff_reading_reaches_the_api_exactly_once(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    db_url = f"sqlite:///{tmp_path / 'cloud.db'}"
    run(homerpm("cloud", "seed-demo", "--db", db_url), tmp_path)
    config = tmp_path / "gateway.toml"
    outbox = tmp_path / "outbox.db"
    config.write_text(f"""
gateway_id = "gw-demo-1"
[mqtt]
url = "mqtt://{mosquitto.host}:{mosquitto.port}"
[outbox]
path = "{outbox}"
[[devices]]
kind = "blood_pressure"
simulated = true
patient = "demo-patient-1"
interval_s = 0.05
count = {READINGS}
""")
    seen: list[str] = []
    ready = asyncio.Event()
    watcher = asyncio.create_task(watch_uplink(mosquitto, seen, ready))
    await asyncio.wait_for(ready.wait(), 10)
    ingest = spawn(
        "ingest",
        homerpm(
            "-v",
            "cloud",
            "ingest",
            "--id",
            "ingest-0",
            "--broker",
            f"mqtt://{mosquitto.host}:{mosquitto.port}",
            "--db",
            db_url,
        ),
        tmp_path,
    )
    children: list[ManagedProcess] = [ingest]
    try:
        await asyncio.to_thread(ingest.wait_for_log, "subscribed", 120)
        children.append(
            spawn("gateway", homerpm("gateway", "run", "--config", str(config)), tmp_path)
        )
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            for child in children:
                assert child.proc.poll() is None, f"{child.name} died:\n{child.log()}"
            try:
                stats, _, _ = inspect(outbox)
            except sqlite3.OperationalError:  # not created yet, or its schema not yet written
                pass
            else:
                if len(set(seen)) >= READINGS and stats.depth == 0:
                    break
            await asyncio.sleep(0.3)
        else:
            pytest.fail(f"outbox did not drain; seen {len(seen)}\n{children[1].log()[-3000:]}")
    finally:
        for child in children:
            child.stop()
        watcher.cancel()

    app = create_app(CloudSettings(database_url=db_url))
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://api") as api,
    ):
        token = (
            await api.post("/api/v1/auth/token", data={"username": "demo", "password": "demo"})
        ).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        page = (
            await api.get(
                "/api/v1/patients/demo-patient-1/readings", params={"limit": 1000}, headers=headers
            )
        ).json()
    listed = [item["msg_id"] for item in page["items"]]
    assert len(listed) == READINGS
    assert len(set(listed)) == READINGS  # each msg_id exactly once
    assert set(listed) == set(seen)  # exactly what crossed the broker, retries or not
    assert all(item["simulated"] and item["kind"] == "blood_pressure" for item in page["items"])
