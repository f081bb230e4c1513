"""aiomqtt 2.5.1 with manual acknowledgement and alerts-first delivery.

Manual ack: aiomqtt 2.5.1 has no API for it, but it wraps a paho-mqtt 2.x client in
``Client._client``, and paho 2.x supports ``manual_ack_set(True)`` + ``ack(mid, qos)``:
paho then withholds the PUBACK for an incoming QoS 1 message until we call ``ack``.
We turn that on right after construction (before connecting) and ack only after the
durable write, so a crash between receipt and write leaves the message unacked and the
broker redelivers it to our persistent session. aiomqtt drives paho's socket from the
event loop, so calling ``ack`` from the loop thread is safe. aiomqtt 3 has ``puback``
built in; this module is the only place to change then.

Alerts first: aiomqtt accepts a ``queue_type`` for its incoming queue; a priority queue
ordered by topic kind hands alert batches to the worker before queued reading batches.
Their PUBACKs may then go out of arrival order; MQTT 5 §4.6 asks clients to keep PUBACK
order, but brokers match PUBACKs by packet id (mosquitto does: see test_worker.py
::test_queued_alert_overtakes_queued_readings), and the
reordering stays within the Receive Maximum window.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any, cast

import aiomqtt

from vitals.topics import TopicKind

_PRIORITY = {TopicKind.ALERTS.value: 0}
_DEFAULT_PRIORITY = 1


def priority(topic: str) -> int:
    """0 for alert batches, 1 for everything else."""
    for suffix, rank in _PRIORITY.items():
        if topic.endswith("/" + suffix):
            return rank
    return _DEFAULT_PRIORITY


class AlertsFirstQueue(asyncio.PriorityQueue[Any]):
    """An incoming-message queue that yields alert batches before everything else (FIFO within)."""

    def __init__(self, maxsize: int = 0) -> None:
        super().__init__(maxsize)
        self._counter = itertools.count()

    def _put(self, item: Any) -> None:
        message = cast(aiomqtt.Message, item)
        super()._put((priority(str(message.topic)), next(self._counter), message))

    def _get(self) -> Any:
        return super()._get()[-1]


class ManualAckClient(aiomqtt.Client):
    """An :class:`aiomqtt.Client` whose QoS 1 messages are acked only by :meth:`ack`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("queue_type", AlertsFirstQueue)
        super().__init__(*args, **kwargs)
        self._client.manual_ack_set(True)

    def ack(self, message: aiomqtt.Message) -> None:
        """Send the PUBACK for ``message`` (no-op for QoS 0)."""
        if message.qos > 0:
            self._client.ack(message.mid, message.qos)
