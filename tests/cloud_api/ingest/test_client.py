"""The alerts-first incoming queue of the ingest client."""

from __future__ import annotations

import aiomqtt

from cloud_api.ingest.client import AlertsFirstQueue, priority
from vitals.topics import TopicKind, topic


def message(kind: TopicKind, n: int) -> aiomqtt.Message:
    return aiomqtt.Message(topic("gw-1", kind), str(n).encode(), qos=1, retain=False, mid=n,
                           properties=None)


async def test_alert_batches_overtake_queued_readings() -> None:
    queue = AlertsFirstQueue()
    for n, kind in enumerate([TopicKind.READINGS, TopicKind.EVENTS, TopicKind.ALERTS,
                              TopicKind.READINGS, TopicKind.ALERTS]):
        queue.put_nowait(message(kind, n))
    order = [queue.get_nowait().mid for _ in range(5)]
    assert order == [2, 4, 0, 1, 3]  # alerts first, FIFO within each class


def test_priority() -> None:
    assert priority(topic("gw-1", TopicKind.ALERTS)) < priority(topic("gw-1", TopicKind.READINGS))
