"""Gateway status through a REAL mosquitto into the store (SQLite and PostgreSQL): the newest
status per gateway is kept with its health, an older one never wins, bad ones are
dead-lettered and do not stop the worker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import aiomqtt
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cloud_api.alerting.models import GatewayPresence
from cloud_api.db.models import DeadLetterRow
from cloud_api.ingest.config import BrokerAddress, IngestConfig
from cloud_api.ingest.sinks import SqlStore
from cloud_api.ingest.worker import IngestWorker
from firmware_sim.services import Mosquitto
from vitals.status import DeviceHealth, GatewayState, GatewayStatus
from vitals.topics import TopicKind, topic
from vitals.wire import StatusMessage, decode, encode

pytestmark = [pytest.mark.services]
GW = "gw-demo-1"


@pytest.fixture
async def worker(engine: Engine, mosquitto: Mosquitto) -> AsyncIterator[IngestWorker]:
    store = SqlStore(engine)
    w = IngestWorker(IngestConfig("ingest-st", BrokerAddress(mosquitto.host, mosquitto.port),
                                  backoff_initial_s=0.1, backoff_max_s=0.5), store, store)
    task = asyncio.create_task(w.run())
    try:
        await asyncio.wait_for(w.connected.wait(), 10)
        yield w
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def payload(at: datetime, depth: int, battery: int, gateway: str = GW) -> bytes:
    return encode(StatusMessage(status=GatewayStatus(
        gateway=gateway, state=GatewayState.ONLINE, boot_id="boot-1", at=at,
        software="homerpm-gateway/0.1.0", config_version=4, outbox_depth=depth,
        devices=(DeviceHealth(device="cuff-1", battery_pct=battery),), simulated=True)))


async def until(check: Callable[[], bool], within: float = 10.0) -> None:
    # Polls the database: the worker offers no event to wait on for a status write.
    async with asyncio.timeout(within):
        while not check():  # noqa: ASYNC110
            await asyncio.sleep(0.05)


def stored(engine: Engine) -> GatewayPresence | None:
    with Session(engine) as db:
        return db.get(GatewayPresence, GW)


def letters(engine: Engine) -> list[DeadLetterRow]:
    with Session(engine) as db:
        return list(db.scalars(select(DeadLetterRow).order_by(DeadLetterRow.id)))


async def test_status_is_stored_ordered_and_bad_ones_dead_lettered(
    engine: Engine, mosquitto: Mosquitto, worker: IngestWorker
) -> None:
    t = datetime.now(UTC).replace(microsecond=0)
    status_topic = topic(GW, TopicKind.STATUS)
    async with aiomqtt.Client(mosquitto.host, mosquitto.port, identifier=GW) as gw:
        await gw.publish(status_topic, payload(t, depth=12, battery=64), qos=1, retain=True)
        await until(lambda: (row := stored(engine)) is not None and row.last_status is not None)
        # Bad ones: not JSON; a status naming another gateway on this gateway's topic.
        await gw.publish(status_topic, b"{not json", qos=1)
        await gw.publish(status_topic, payload(t, 1, 1, gateway="gw-other"), qos=1)
        # An older heartbeat after a newer one (then a newer one, to know when all arrived).
        await gw.publish(status_topic, payload(t - timedelta(minutes=1), depth=99, battery=1),
                         qos=1)
        await gw.publish(status_topic, payload(t + timedelta(seconds=30), depth=3, battery=63),
                         qos=1)
        await until(lambda: (row := stored(engine)) is not None and row.last_status is not None
                    and row.last_status["outbox_depth"] == 3 and len(letters(engine)) == 2)
    row = stored(engine)
    assert row is not None and row.last_status is not None and row.state == "online"
    assert row.last_status["devices"] == [
        {"device": "cuff-1", "battery_pct": 63, "connected": False}]
    assert row.last_status["config_version"] == 4
    assert row.at == t + timedelta(seconds=30)
    bad = letters(engine)
    assert {d.topic for d in bad} == {status_topic}
    assert all(d.reason.startswith("status: ") for d in bad)
    assert "of the topic's gateway" in bad[1].reason
    assert bad[0].payload == b"{not json"


async def test_statuses_written_together_keep_order_and_skip_unregistered(
    engine: Engine,
) -> None:
    t = datetime.now(UTC).replace(microsecond=0)
    older, newer = payload(t, depth=5, battery=50), payload(t + timedelta(seconds=30), 2, 49)
    statuses = [decode_status(older), decode_status(payload(t, 1, 1, gateway="gw-nobody")),
                decode_status(newer)]
    await SqlStore(engine).write_statuses(statuses, t + timedelta(seconds=31))
    row = stored(engine)
    assert row is not None and row.last_status is not None
    assert row.at == t + timedelta(seconds=30) and row.last_status["outbox_depth"] == 2
    with Session(engine) as db:
        assert db.get(GatewayPresence, "gw-nobody") is None  # unregistered: nothing to watch


def decode_status(raw: bytes) -> GatewayStatus:
    message = decode(raw)
    assert isinstance(message, StatusMessage)
    return message.status


async def test_assignments_for_finds_the_registered_in_one_call(engine: Engine) -> None:
    found = await SqlStore(engine).assignments_for([GW, "gw-nobody", "gw-other"])
    assert set(found) == {GW, "gw-other"}
    assert "demo-patient-1" in found[GW].patients
