"""Handler decisions with an in-memory directory (unit tests; no broker, no DB)."""

from __future__ import annotations

import json

import pytest

from cloud_api.db.directory import GatewayAssignment
from cloud_api.ingest.handler import handle
from cloud_api.ingest.sinks import MemorySink
from tests.cloud_api.factories import T0, bp, readings_payload
from vitals.topics import TopicKind, topic
from vitals.wire import EventsBatch, GatewayEvent, encode

GW = "gw-1"
READINGS = topic(GW, TopicKind.READINGS)


@pytest.fixture
def directory() -> MemorySink:
    return MemorySink([GatewayAssignment(GW, 1, frozenset({"p-1"}))])


async def test_good_batch_is_accepted_whole(directory: MemorySink) -> None:
    items = (bp("p-1"), bp("p-1", minutes=1))
    batch = await handle(READINGS, readings_payload(GW, *items), directory, T0)
    assert batch.readings == items and batch.dead_letters == ()
    assert batch.ack_ids == tuple(i.msg_id for i in items) and batch.gateway == GW


@pytest.mark.parametrize(
    ("where", "payload", "reason"),
    [
        (READINGS, b"\xff\xfe", "malformed"),
        (READINGS, b"[]", "malformed"),
        (READINGS, b'{"v":1,"type":"status","status":{}}', "malformed"),
        ("homerpm/v1/gw-1/up/nonsense", b"{}", "topic"),
        ("elsewhere/x", b"{}", "topic"),
        (topic(GW, TopicKind.STATUS), b"{}", "not ingested"),
    ],
)
async def test_unusable_message_becomes_one_dead_letter(
    directory: MemorySink, where: str, payload: bytes, reason: str
) -> None:
    batch = await handle(where, payload, directory, T0)
    [letter] = batch.dead_letters
    assert letter.payload == payload and reason in letter.reason and letter.topic == where
    assert batch.readings == () and batch.ack_ids == ()


async def test_batch_type_must_match_topic(directory: MemorySink) -> None:
    event = GatewayEvent(msg_id="e-1", at=T0, code="meter_reset")
    payload = encode(EventsBatch(gateway=GW, sent_at=T0, items=(event,)))
    batch = await handle(READINGS, payload, directory, T0)
    assert "'events' batch on a 'readings' topic" in batch.dead_letters[0].reason
    assert batch.ack_ids == ("e-1",)
    ok = await handle(topic(GW, TopicKind.EVENTS), payload, directory, T0)
    assert ok.events == (event,) and ok.dead_letters == ()


async def test_items_are_judged_one_by_one(directory: MemorySink) -> None:
    good, foreign, broken = bp("p-1"), bp("p-other", minutes=1), bp("p-1", minutes=2)
    message = json.loads(readings_payload(GW, good, foreign, broken))
    del message["items"][2]["device"]
    message["items"].append("not an object")
    batch = await handle(READINGS, json.dumps(message).encode(), directory, T0)
    assert batch.readings == (good,)
    reasons = sorted(d.reason for d in batch.dead_letters)
    assert len(reasons) == 3
    assert any("items.2" in r and "device" in r for r in reasons)
    assert any("items.3" in r for r in reasons)
    assert any("not assigned" in r for r in reasons)
    # every item that carried an id is acked, stored or not
    assert set(batch.ack_ids) == {good.msg_id, foreign.msg_id, broken.msg_id}


async def test_dead_letter_digest_identifies_redeliveries(directory: MemorySink) -> None:
    first = await handle(READINGS, b"junk", directory, T0)
    again = await handle(READINGS, b"junk", directory, T0)
    other = await handle(READINGS, b"junk2", directory, T0)
    assert first.dead_letters[0].digest == again.dead_letters[0].digest
    assert first.dead_letters[0].digest != other.dead_letters[0].digest


async def test_overlong_event_id_is_dead_lettered(directory: MemorySink) -> None:
    ok = GatewayEvent(msg_id="e-1", at=T0, code="pairing")
    long = GatewayEvent(msg_id="e" * 65, at=T0, code="pairing")
    payload = encode(EventsBatch(gateway=GW, sent_at=T0, items=(ok, long)))
    batch = await handle(topic(GW, TopicKind.EVENTS), payload, directory, T0)
    assert batch.events == (ok,)
    assert "longer than 64" in batch.dead_letters[0].reason
