"""Downlink config through a real mosquitto: applied live, versioned, rejected with a
reason (old one kept), and re-applied from the outbox file after an offline restart."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from firmware_sim.services import Mosquitto
from gateway.app import run
from gateway.config import GatewayConfig
from tests.gateway.gw_factories import quick_gateway, until
from vitals import wire
from vitals.topics import TopicKind, subscription, topic

pytestmark = [pytest.mark.services]
GW = "gw-cfg"


def cfg(tmp_path: Path, port: int) -> GatewayConfig:
    return quick_gateway(
        GW, tmp_path, port,
        outbox={"path": tmp_path / "outbox.db", "max_messages_per_s": 0},
        devices=[{"id": "cuff-1", "kind": "blood_pressure", "simulated": True,
                  "patient": "pt-local", "interval_s": 0.1, "seed": 3}],
    )


class Seen:
    def __init__(self) -> None:
        self.patients: list[str] = []
        self.events: list[wire.GatewayEvent] = []
        self.status: list[wire.StatusMessage] = []


async def observe(port: int, seen: Seen, ready: asyncio.Event) -> None:
    async with aiomqtt.Client("127.0.0.1", port, protocol=aiomqtt.ProtocolVersion.V5) as c:
        for kind in (TopicKind.READINGS, TopicKind.EVENTS, TopicKind.STATUS):
            await c.subscribe(subscription(kind), qos=1)
        ready.set()
        async for m in c.messages:
            msg = wire.decode(m.payload)  # type: ignore[arg-type]
            if isinstance(msg, wire.ReadingsBatch):
                seen.patients += [r.patient for r in msg.items]
            elif isinstance(msg, wire.EventsBatch):
                seen.events += list(msg.items)
            elif isinstance(msg, wire.StatusMessage):
                seen.status.append(msg)


async def publish_config(port: int, version: int, body: dict[str, Any]) -> None:
    message = wire.ConfigMessage(version=version, issued_at=datetime.now(UTC), body=body)
    async with aiomqtt.Client("127.0.0.1", port, protocol=aiomqtt.ProtocolVersion.V5) as c:
        await c.publish(topic(GW, TopicKind.CONFIG), wire.encode(message), qos=1, retain=True)


@contextlib.asynccontextmanager
async def gateway(config: GatewayConfig) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(run(config, stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)


def outbox_patients(tmp_path: Path) -> list[str]:
    import json

    with sqlite3.connect(tmp_path / "outbox.db") as db:
        return [json.loads(p)["patient"] for (p,) in
                db.execute("SELECT payload FROM outbox WHERE kind = 'reading' ORDER BY seq")]


GOOD = {"patients": {"pt-new": {"devices": ["cuff-1"]}},
        "rules": {"profile": "aha", "patients": {"pt-new": {"timezone": "Europe/Berlin"}}}}
BAD = {"patients": {"pt-other": {"devices": ["no-such-device"]}}}


async def test_config_applies_live_rejects_bad_and_survives_offline_restart(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    seen, ready = Seen(), asyncio.Event()
    watcher = asyncio.create_task(observe(mosquitto.port, seen, ready))
    await asyncio.wait_for(ready.wait(), 10)
    config = cfg(tmp_path, mosquitto.port)
    try:
        async with gateway(config):
            await until(lambda: "pt-local" in seen.patients, within=15)
            await publish_config(mosquitto.port, 2, GOOD)
            await until(lambda: any(s.status.config_version == 2 for s in seen.status), 10)
            n = len(seen.patients)
            await until(lambda: len(seen.patients) > n + 3, within=10)
            assert seen.patients[-1] == "pt-new"  # no restart needed

            await publish_config(mosquitto.port, 3, BAD)
            await until(lambda: any(e.code == "config_rejected" for e in seen.events), 10)
            rejected = next(e for e in seen.events if e.code == "config_rejected")
            assert "no-such-device" in rejected.detail["reason"]
            assert rejected.detail["applied_version"] == 2
            await publish_config(mosquitto.port, 1, GOOD | {"patients": {}})  # older: ignored
            n = len(seen.patients)
            await until(lambda: len(seen.patients) > n + 3, within=10)
            assert seen.patients[-1] == "pt-new"  # the old config is kept
            assert seen.status[-1].status.config_version == 2
        with sqlite3.connect(tmp_path / "outbox.db") as db:
            reasons = [r for (r,) in db.execute("SELECT reason FROM rejects")]
        assert any("config rejected" in r and "no-such-device" in r for r in reasons)
    finally:
        watcher.cancel()

    # Offline restart (no broker at all): the stored config applies before any reading.
    mosquitto.stop()
    before = len(outbox_patients(tmp_path))
    async with gateway(config):
        await until(lambda: len(outbox_patients(tmp_path)) > before + 3, within=15)
    assert set(outbox_patients(tmp_path)[before:]) == {"pt-new"}
