"""Ingest worker against a REAL mosquitto and a real SQLite store."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path

import aiomqtt
import pytest
from sqlalchemy import Engine, func, select

from cloud_api.db.models import AlertEventRow, AlertRow, DeadLetterRow, ReadingRow
from cloud_api.ingest.batch import IngestBatch, WriteResult
from cloud_api.ingest.config import BrokerAddress, IngestConfig
from cloud_api.ingest.sinks import BatchRejected, SqlStore, StoreUnavailable
from cloud_api.ingest.trace import WriteTrace, read_trace
from cloud_api.ingest.worker import IngestWorker
from firmware_sim.services import Mosquitto
from tests.cloud_api.factories import T0, bp, readings_payload
from vitals.alerts import Alert, AlertState, Severity
from vitals.ids import new_msg_id
from vitals.topics import TopicKind, topic
from vitals.wire import Ack, AlertsBatch, decode, encode

V5 = aiomqtt.ProtocolVersion.V5
NODELAY = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]  # else ~40 ms per QoS 1 publish
pytestmark = [pytest.mark.services]

GW = "gw-demo-1"


def config(broker: Mosquitto, worker_id: str = "ingest-t") -> IngestConfig:
    return IngestConfig(worker_id, BrokerAddress(broker.host, broker.port),
                        backoff_initial_s=0.1, backoff_max_s=0.5)


@pytest.fixture
async def worker(engine: Engine, mosquitto: Mosquitto) -> AsyncIterator[IngestWorker]:
    store = SqlStore(engine)
    w = IngestWorker(config(mosquitto), store, store)
    task = asyncio.create_task(w.run())
    try:
        await asyncio.wait_for(w.connected.wait(), 10)
        yield w
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


class Gateway:
    """A stand-in gateway: publishes payloads and collects the acks it gets back."""

    def __init__(self, client: aiomqtt.Client) -> None:
        self.client = client
        self.acked: list[str] = []

    async def publish(self, payload: bytes, kind: TopicKind = TopicKind.READINGS,
                      gateway: str = GW) -> None:
        await self.client.publish(topic(gateway, kind), payload, qos=1)

    async def wait_acked(self, ids: Iterable[str], within: float = 10) -> None:
        wanted = set(ids)

        async def collect() -> None:
            async for message in self.client.messages:
                ack = decode(message.payload)  # type: ignore[arg-type]
                assert isinstance(ack, Ack)
                self.acked.extend(ack.msg_ids)
                if wanted <= set(self.acked):
                    return

        if not wanted <= set(self.acked):
            await asyncio.wait_for(collect(), within)


@pytest.fixture
async def gateway(mosquitto: Mosquitto) -> AsyncIterator[Gateway]:
    async with aiomqtt.Client(mosquitto.host, mosquitto.port, identifier="test-gw",
                              protocol=V5, socket_options=NODELAY) as client:
        await client.subscribe(topic(GW, TopicKind.ACK), qos=1)
        yield Gateway(client)


def count(engine: Engine, column: object) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count(column))) or 0)  # type: ignore[call-overload]


def letters(engine: Engine) -> list[DeadLetterRow]:
    from sqlalchemy.orm import Session
    with Session(engine) as db:
        return list(db.scalars(select(DeadLetterRow).order_by(DeadLetterRow.id)))


async def test_batch_lands_once_and_is_acked(
    engine: Engine, worker: IngestWorker, gateway: Gateway
) -> None:
    items = (bp(minutes=0), bp(minutes=1, systolic=141))
    payload = readings_payload(GW, *items)
    await gateway.publish(payload)
    await gateway.wait_acked(i.msg_id for i in items)
    await gateway.publish(payload)  # the gateway did not see the ack and resends
    gateway.acked.clear()
    await gateway.wait_acked(i.msg_id for i in items)

    from sqlalchemy.orm import Session
    with Session(engine) as db:
        rows = db.scalars(select(ReadingRow).order_by(ReadingRow.measured_at)).all()
    assert [r.msg_id for r in rows] == [i.msg_id for i in items]
    assert rows[1].body["systolic"] == 141
    assert rows[0].simulated is True
    assert rows[0].gateway_id == GW and rows[0].patient_id == "demo-patient-1"
    assert rows[0].measured_at == T0
    assert letters(engine) == []


async def test_malformed_message_is_dead_lettered_and_next_one_lands(
    engine: Engine, worker: IngestWorker, gateway: Gateway
) -> None:
    await gateway.publish(b"\x00not json{")
    await gateway.publish(b'{"v": 2, "type": "readings"}')
    good = bp()
    await gateway.publish(readings_payload(GW, good))
    await gateway.wait_acked([good.msg_id])

    assert count(engine, ReadingRow.msg_id) == 1
    kept = letters(engine)
    assert [d.payload for d in kept] == [b"\x00not json{", b'{"v": 2, "type": "readings"}']
    assert all(d.reason.startswith("malformed:") for d in kept)
    assert "v:" in kept[1].reason
    assert kept[0].gateway_id == GW and kept[0].topic == topic(GW, TopicKind.READINGS)


async def test_bad_item_is_dead_lettered_and_good_neighbour_stored(
    engine: Engine, worker: IngestWorker, gateway: Gateway
) -> None:
    good, bad = bp(minutes=0), bp(minutes=1)
    message = json.loads(readings_payload(GW, good, bad))
    message["items"][1]["systolic"] = -5  # out of range: this item only is broken
    await gateway.publish(json.dumps(message).encode())
    await gateway.wait_acked([good.msg_id, bad.msg_id])

    assert count(engine, ReadingRow.msg_id) == 1
    [letter] = letters(engine)
    assert letter.msg_id == bad.msg_id
    assert "items.1" in letter.reason and "systolic" in letter.reason
    assert json.loads(letter.payload)["systolic"] == -5


@pytest.mark.parametrize(
    ("envelope_gw", "topic_gw", "patient", "reason"),
    [
        ("gw-other", GW, "demo-patient-1", "does not match topic gateway"),
        (GW, GW, "other-patient", "is not assigned to gateway"),
    ],
)
async def test_rejected_by_directory(
    engine: Engine, worker: IngestWorker, gateway: Gateway,
    envelope_gw: str, topic_gw: str, patient: str, reason: str,
) -> None:
    item = bp(patient=patient)
    await gateway.publish(readings_payload(envelope_gw, item), gateway=topic_gw)
    await gateway.wait_acked([item.msg_id])  # handled: the gateway may stop resending
    assert count(engine, ReadingRow.msg_id) == 0
    [letter] = letters(engine)
    assert reason in letter.reason


async def test_unregistered_gateway_is_dead_lettered(
    engine: Engine, worker: IngestWorker, gateway: Gateway
) -> None:
    await gateway.publish(readings_payload("gw-unknown", bp()), gateway="gw-unknown")
    good = bp(minutes=5)
    await gateway.publish(readings_payload(GW, good))
    await gateway.wait_acked([good.msg_id])
    [letter] = letters(engine)
    assert "not registered" in letter.reason and letter.gateway_id == "gw-unknown"


async def test_alert_events_keep_latest_state(
    engine: Engine, worker: IngestWorker, gateway: Gateway
) -> None:
    alert_id = new_msg_id(T0)
    opened = Alert(
        alert_id=alert_id, msg_id=new_msg_id(T0), patient="demo-patient-1", rule_id="bp.high",
        rule_version="1", severity=Severity.WARNING, title="BP above limit",
        explanation="systolic 165 mmHg ≥ 160 mmHg", raised_at=T0, updated_at=T0, simulated=True,
    )
    later = T0.replace(minute=30)
    cleared = opened.model_copy(update={"msg_id": new_msg_id(later), "state": AlertState.CLEARED,
                                        "updated_at": later, "cleared_at": later})
    # Newest first: the older event must not overwrite the newer state.
    for event in (cleared, opened):
        await gateway.publish(encode(AlertsBatch(gateway=GW, sent_at=T0, items=(event,))),
                              kind=TopicKind.ALERTS)
    await gateway.wait_acked([opened.msg_id, cleared.msg_id])
    from sqlalchemy.orm import Session
    with Session(engine) as db:
        row = db.get(AlertRow, alert_id)
        assert row is not None and row.state == "cleared" and row.last_msg_id == cleared.msg_id
    assert count(engine, AlertEventRow.msg_id) == 2


class FlakyStore(SqlStore):
    """Fails the first ``failures`` writes, as a database restart would."""

    def __init__(self, engine: Engine, failures: int) -> None:
        super().__init__(engine)
        self.failures = failures

    async def write_many(self, batches: Sequence[IngestBatch]) -> WriteResult:
        if self.failures > 0:
            self.failures -= 1
            raise StoreUnavailable("database restarting")
        return await super().write_many(batches)


async def test_failed_write_is_not_acked_and_is_redelivered(
    engine: Engine, mosquitto: Mosquitto, gateway: Gateway
) -> None:
    store = FlakyStore(engine, failures=2)
    w = IngestWorker(config(mosquitto, "ingest-flaky"), store, store)
    task = asyncio.create_task(w.run())
    try:
        await asyncio.wait_for(w.connected.wait(), 10)
        item = bp()
        await gateway.publish(readings_payload(GW, item))
        await gateway.wait_acked([item.msg_id], within=15)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert store.failures == 0
    assert count(engine, ReadingRow.msg_id) == 1
    assert gateway.acked == [item.msg_id]  # no ack went out for the failed attempts


class RejectingStore(SqlStore):
    """Refuses any batch with readings, as a constraint violation would."""

    async def write_many(self, batches: Sequence[IngestBatch]) -> WriteResult:
        if any(b.readings for b in batches):
            raise BatchRejected("IntegrityError: simulated constraint")
        return await super().write_many(batches)


async def test_batch_rejected_by_store_is_dead_lettered_not_looped(
    engine: Engine, mosquitto: Mosquitto, gateway: Gateway
) -> None:
    store = RejectingStore(engine)
    w = IngestWorker(config(mosquitto, "ingest-rejecting"), store, store)
    task = asyncio.create_task(w.run())
    try:
        await asyncio.wait_for(w.connected.wait(), 10)
        item = bp()
        payload = readings_payload(GW, item)
        await gateway.publish(payload)
        await gateway.wait_acked([item.msg_id])
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    [letter] = letters(engine)
    assert letter.payload == payload and "rejected by the store" in letter.reason
    assert count(engine, ReadingRow.msg_id) == 0


async def test_queued_alert_overtakes_queued_readings(
    engine: Engine, mosquitto: Mosquitto, gateway: Gateway
) -> None:
    store = SqlStore(engine)

    async def run_worker_until(ids: list[str]) -> None:
        w = IngestWorker(config(mosquitto, "ingest-prio"), store, store)
        task = asyncio.create_task(w.run())
        try:
            await asyncio.wait_for(w.connected.wait(), 10)
            if ids:
                await gateway.wait_acked(ids, within=20)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    await run_worker_until([])  # join the group with a persistent session, then go away
    readings = [bp(minutes=i) for i in range(40)]
    for item in readings:  # the backlog queues at the broker for our session
        await gateway.publish(readings_payload(GW, item))
    alert = Alert(
        alert_id=new_msg_id(T0), msg_id=new_msg_id(T0), patient="demo-patient-1",
        rule_id="bp.high", rule_version="1", severity=Severity.URGENT, title="BP above limit",
        explanation="systolic 185 mmHg ≥ 180 mmHg", raised_at=T0, updated_at=T0, simulated=True,
    )
    await gateway.publish(encode(AlertsBatch(gateway=GW, sent_at=T0, items=(alert,))),
                          kind=TopicKind.ALERTS)
    await run_worker_until([alert.msg_id, *(r.msg_id for r in readings)])

    from sqlalchemy.orm import Session
    with Session(engine) as db:
        alert_at = db.scalars(select(AlertEventRow.received_at)).one()
        before = db.scalar(select(func.count(ReadingRow.msg_id))
                           .where(ReadingRow.received_at < alert_at))
    # FIFO would store all 40 readings first; alerts-first lets it overtake the backlog.
    assert before is not None and before < 10


async def test_messages_are_batched_into_few_writes_and_every_one_is_acked(
    engine: Engine, worker: IngestWorker, gateway: Gateway
) -> None:
    items = [bp(minutes=i) for i in range(40)]
    gateway.client.pending_calls_threshold = 100
    # Published concurrently: they reach the worker within its 200 ms batching window.
    await asyncio.gather(*(gateway.publish(readings_payload(GW, i)) for i in items))
    await gateway.wait_acked(i.msg_id for i in items)
    assert count(engine, ReadingRow.msg_id) == 40
    assert worker.stats.messages == 40
    assert worker.stats.flushes < 40  # one write carried several messages


def test_a_large_pending_batch_is_written_in_bounded_slices() -> None:
    from cloud_api.ingest.batch import IngestBatch
    from cloud_api.ingest.worker import _Pending, _Received

    pending = _Pending()
    for minutes in range(10):
        batch = IngestBatch(T0, GW, readings=(bp(minutes=minutes), bp(minutes=minutes + 100)))
        pending.add(_Received(None, b"", batch))  # type: ignore[arg-type]
    first = pending.take(5)  # records: 2 per message → 3 messages reach the limit
    assert len(first) == 3 and pending.size == 14
    assert len(pending.take(100)) == 7 and pending.size == 0 and not pending.items


async def test_write_trace_records_each_flush_in_order(
    engine: Engine, mosquitto: Mosquitto, gateway: Gateway, tmp_path: Path
) -> None:
    store = SqlStore(engine)
    trace = WriteTrace(tmp_path / "trace.jsonl", "ingest-traced")
    w = IngestWorker(config(mosquitto, "ingest-traced"), store, store, trace)
    task = asyncio.create_task(w.run())
    first, second = (bp(minutes=0),), (bp(minutes=1), bp(minutes=2))
    try:
        await asyncio.wait_for(w.connected.wait(), 10)
        await gateway.publish(readings_payload(GW, *first))
        await gateway.wait_acked(r.msg_id for r in first)
        await gateway.publish(readings_payload(GW, *second))
        await gateway.publish(b"\x00not json{")  # no readable ids: traced without any
        await gateway.wait_acked(r.msg_id for r in second)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        trace.close()
    flushes = read_trace(tmp_path / "trace.jsonl")
    traced = [m for f in flushes for _, ids in f.messages for m in ids]
    assert traced == [r.msg_id for r in (*first, *second)]
    assert sum(len(f.messages) for f in flushes) == 3 and len(flushes) >= 2
    for f in flushes:
        assert f.worker == "ingest-traced"
        assert all(received <= f.started for received, _ in f.messages)
        assert f.started <= f.written
        # Stopping the worker may cut the last flush's ack step short: traced, acked None.
        assert f.acked is None or f.written <= f.acked
