"""The worker with its own service credentials behind the per-gateway ACLs (real mosquitto)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import aiomqtt
import pytest
from sqlalchemy import Engine, func, select

from cloud_api.broker.mosquitto_auth import (
    ServiceAccount,
    ServiceRole,
    hash_password,
    new_secret,
    render_acl,
    render_password_file,
)
from cloud_api.db.models import ReadingRow
from cloud_api.ingest.config import BrokerAddress, IngestConfig
from cloud_api.ingest.sinks import SqlStore
from cloud_api.ingest.worker import IngestWorker
from firmware_sim.services import Mosquitto
from tests.cloud_api.factories import bp, readings_payload
from vitals.topics import TopicKind, topic
from vitals.wire import Ack, decode

pytestmark = [pytest.mark.services]
GW = "gw-demo-1"


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[tuple[Mosquitto, dict[str, str]]]:
    secrets_ = {GW: new_secret(), "svc-ingest": new_secret()}
    broker = Mosquitto(tmp_path / "broker", passwords={"placeholder": "x"}).start()
    (broker.workdir / "passwords").write_text(
        render_password_file({u: hash_password(p) for u, p in secrets_.items()})
    )
    (broker.workdir / "acl").write_text(
        render_acl([ServiceAccount("svc-ingest", ServiceRole.INGEST)])
    )
    broker.reload()
    yield broker, secrets_
    broker.stop()


async def test_worker_ingests_and_acks_under_acls(
    engine: Engine, secured: tuple[Mosquitto, dict[str, str]]
) -> None:
    broker, secrets_ = secured
    address = BrokerAddress(broker.host, broker.auth_port, username="svc-ingest",
                            password=secrets_["svc-ingest"])
    store = SqlStore(engine)
    worker = IngestWorker(IngestConfig("ingest-0", address), store, store)
    task = asyncio.create_task(worker.run())
    try:
        await asyncio.wait_for(worker.connected.wait(), 10)
        item = bp()
        async with aiomqtt.Client(broker.host, broker.auth_port, identifier=GW, username=GW,
                                  password=secrets_[GW],
                                  protocol=aiomqtt.ProtocolVersion.V5) as gw:
            await gw.subscribe(topic(GW, TopicKind.ACK), qos=1)
            await gw.publish(topic(GW, TopicKind.READINGS), readings_payload(GW, item), qos=1)
            async with asyncio.timeout(10):
                message = await anext(aiter(gw.messages))
        ack = decode(message.payload)  # type: ignore[arg-type]
        assert isinstance(ack, Ack) and ack.msg_ids == (item.msg_id,)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count(ReadingRow.msg_id))) == 1
