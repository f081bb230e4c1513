"""Batches assembled from stored JSON must be valid wire v1 messages."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from gateway.batches import build_batches
from gateway.outbox import Outbox
from tests.gateway.gw_factories import alert, bp
from vitals import topics
from vitals.wire import AlertsBatch, ReadingsBatch, decode

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def test_batches_decode_alerts_first_and_split_by_count(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db")
    readings = [bp(i) for i in range(5)]
    a = alert(readings[3])
    for r in readings:
        box.put(r, [a] if r is readings[3] else [], now=0)
    batches = build_batches("gw-1", box.next_batch(100, now=1), NOW, max_items=2)
    assert [b.topic for b in batches] == [topics.topic("gw-1", topics.TopicKind.ALERTS)] + [
        topics.topic("gw-1", topics.TopicKind.READINGS)] * 3
    first = decode(batches[0].payload)
    assert isinstance(first, AlertsBatch) and first.items == (a,)
    decoded = [decode(b.payload) for b in batches[1:]]
    assert all(isinstance(m, ReadingsBatch) for m in decoded)
    items = [item for m in decoded for item in m.items]  # type: ignore[union-attr]
    assert items == readings
    assert decoded[0].gateway == "gw-1" and decoded[0].sent_at == NOW
    assert [b.msg_ids for b in batches[1:]] == [
        tuple(r.msg_id for r in readings[i:i + 2]) for i in (0, 2, 4)]


def test_batches_split_by_bytes(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db")
    for i in range(4):
        box.put(bp(i), now=0)
    one = len(bp(0).model_dump_json(exclude_none=True))
    batches = build_batches("gw-1", box.next_batch(100, now=1), NOW, max_bytes=one * 2 + 10)
    assert [len(b.msg_ids) for b in batches] == [2, 2]
