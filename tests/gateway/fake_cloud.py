"""A tiny stand-in for the cloud ingest in gateway tests: subscribe, record, ack.

It answers every uplink batch with a :class:`vitals.wire.Ack` for its msg_ids on the
gateway's ``…/ack`` topic (when ``acking`` is on), the way the real ingest worker does
after its durable write.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from gateway.uplink import consume_disconnect_error
from vitals import topics
from vitals.wire import Ack, AlertsBatch, EventsBatch, ReadingsBatch, StatusMessage, decode, encode


def _session() -> Properties:
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = 300
    return props


class FakeCloud:
    def __init__(self, port: int, acking: bool = True, share: str | None = None) -> None:
        self.port = port
        self.acking = acking
        self.share = share  # subscribe to batches as the ingest workers do: $share/<group>/…
        self.seen: Counter[str] = Counter()
        self.order: list[str] = []
        self.kinds: list[str] = []
        self.status: list[StatusMessage] = []
        self.ready = asyncio.Event()

    def distinct(self) -> set[str]:
        return set(self.seen)

    async def _serve(self, client: aiomqtt.Client) -> None:
        for kind in (topics.TopicKind.READINGS, topics.TopicKind.ALERTS,
                     topics.TopicKind.EVENTS):
            sub = topics.subscription(kind)
            await client.subscribe(topics.shared(self.share, sub) if self.share else sub, qos=1)
        await client.subscribe(topics.subscription(topics.TopicKind.STATUS), qos=1)
        self.ready.set()
        async for msg in client.messages:
            parsed = topics.parse(str(msg.topic))
            message = decode(msg.payload)
            if isinstance(message, StatusMessage):
                self.status.append(message)
                continue
            assert isinstance(message, ReadingsBatch | AlertsBatch | EventsBatch)
            ids = tuple(i.msg_id for i in message.items)
            self.seen.update(ids)
            self.order += ids
            self.kinds.append(message.type)
            if self.acking:
                await client.publish(topics.topic(parsed.gateway, topics.TopicKind.ACK),
                                     encode(Ack(msg_ids=ids)), qos=1)

    async def run(self) -> None:
        """Serve forever, reconnecting if the broker goes away."""
        while True:
            task = asyncio.current_task()
            if task is not None and task.cancelling():  # a cancel aiomqtt swallowed
                raise asyncio.CancelledError
            client = aiomqtt.Client("127.0.0.1", self.port, identifier="fake-cloud",
                                    protocol=aiomqtt.ProtocolVersion.V5,
                                    clean_start=False, properties=_session(),
                                    # aiomqtt 2.5.1 notices a dead connection in a
                                    # pending publish only at its timeout: keep it short
                                    timeout=2, keepalive=5)
            client.pending_calls_threshold = 1000
            try:
                async with client:
                    await self._serve(client)
            except aiomqtt.MqttError:
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise asyncio.CancelledError from None  # aiomqtt masked our cancel
                await asyncio.sleep(0.2)
            finally:
                consume_disconnect_error(client)

@contextlib.asynccontextmanager
async def running(cloud: FakeCloud) -> AsyncIterator[FakeCloud]:
    task = asyncio.create_task(cloud.run())
    await asyncio.wait_for(cloud.ready.wait(), 10)  # subscribed before the gateway publishes
    try:
        yield cloud
    finally:
        # Cancel until it ends: aiomqtt 2.5.1 on Python 3.11 can swallow one cancellation.
        while not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=1)
        with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
            task.result()
