"""The ingest worker loop: receive → handle → durable write → e2e ack → MQTT ack.

One message at a time, in the order the (alerts-first) queue yields them. If the sink
cannot write, the worker drops the connection without acking: the broker keeps the
message in our persistent session and redelivers it after we reconnect (with backoff).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from cloud_api.ingest.batch import DeadLetter, IngestBatch
from cloud_api.ingest.client import ManualAckClient
from cloud_api.ingest.config import IngestConfig
from cloud_api.ingest.handler import GatewayDirectory, handle
from cloud_api.ingest.sinks import BatchRejected, ReadingSink, StatusSink, StoreUnavailable
from vitals.readings import now_utc
from vitals.topics import TopicError, TopicKind, parse, topic
from vitals.wire import Ack, StatusMessage, WireError, decode, encode

log = logging.getLogger(__name__)


def _connect_properties(session_expiry_s: int, receive_maximum: int) -> Properties:
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = session_expiry_s
    props.ReceiveMaximum = receive_maximum
    return props


def make_client(config: IngestConfig, *, retire: bool = False) -> ManualAckClient:
    broker = config.broker
    return ManualAckClient(
        broker.host, broker.port,
        identifier=config.worker_id,
        username=broker.username, password=broker.password,
        protocol=aiomqtt.ProtocolVersion.V5,
        # Persistent session: our share of the stream queues at the broker while we are
        # away. Retiring is the opposite: start clean and let the session expire at once.
        clean_start=retire,
        properties=_connect_properties(0 if retire else config.session_expiry_s,
                                       config.receive_maximum),
        tls_context=ssl.create_default_context() if broker.tls else None,
        # Our packets are small and latency-bound (PUBACK, e2e ack): without TCP_NODELAY
        # Nagle's algorithm meets delayed ACKs and each message costs ~40 ms (measured).
        socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
    )


class IngestWorker:
    def __init__(
        self, config: IngestConfig, sink: ReadingSink, directory: GatewayDirectory
    ) -> None:
        self.config = config
        self.sink = sink
        self.directory = directory
        self.connected = asyncio.Event()  # set while subscribed (tests and health wait on it)

    async def run(self) -> None:
        """Consume until cancelled, reconnecting with exponential backoff."""
        delay = self.config.backoff_initial_s
        while True:
            try:
                await self._session()
            except (aiomqtt.MqttError, StoreUnavailable) as exc:
                if self.connected.is_set():  # we had a working session: start backoff afresh
                    delay = self.config.backoff_initial_s
                log.warning("%s: %s; reconnecting in %.1f s", self.config.worker_id, exc, delay)
            finally:
                self.connected.clear()
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.config.backoff_max_s)

    async def _session(self) -> None:
        client = make_client(self.config)
        async with client:
            for filter_ in self.config.subscriptions():
                await client.subscribe(filter_, qos=1)
            log.info("%s subscribed to %s", self.config.worker_id, self.config.subscriptions())
            self.connected.set()
            async for message in client.messages:
                await self.process(client, message)

    async def process(self, client: ManualAckClient, message: aiomqtt.Message) -> None:
        payload = message.payload if isinstance(message.payload, bytes) else (
            str(message.payload or "").encode()
        )
        if str(message.topic).endswith("/status"):
            await self._status(str(message.topic), payload)
            client.ack(message)
            return
        batch = await self._handle(str(message.topic), payload)
        try:
            result = await self.sink.write(batch)  # StoreUnavailable → reconnect, no ack
        except BatchRejected as exc:
            log.error("%s: store rejected %s: %s", self.config.worker_id, message.topic, exc)
            letter = DeadLetter(str(message.topic), payload, f"rejected by the store: {exc}"[:2000],
                                batch.received_at, batch.gateway)
            batch = IngestBatch(batch.received_at, batch.gateway, dead_letters=(letter,),
                                ack_ids=batch.ack_ids)
            result = await self.sink.write(batch)
        log.debug("%s: %s on %s", self.config.worker_id, result, message.topic)
        await self._send_ack(client, batch)
        client.ack(message)

    async def _status(self, topic_name: str, payload: bytes) -> None:
        """Gateway presence (retained status, Last Will) for the cloud rules; no e2e ack."""
        received_at = now_utc()
        if not payload:
            return  # a cleared retained message
        try:
            gateway = parse(topic_name).gateway
            message = decode(payload)
            if not isinstance(message, StatusMessage) or message.status.gateway != gateway:
                raise WireError("not a status message of the topic's gateway")
        except (TopicError, WireError) as exc:
            letter = DeadLetter(topic_name, payload, f"status: {exc}", received_at)
            await self.sink.write(IngestBatch(received_at, None, dead_letters=(letter,)))
            return
        if isinstance(self.sink, StatusSink):
            await self.sink.write_status(message.status, received_at)

    async def _handle(self, topic_name: str, payload: bytes) -> IngestBatch:
        received_at = now_utc()
        try:
            return await handle(topic_name, payload, self.directory, received_at)
        except StoreUnavailable:
            raise
        except Exception as exc:
            # A bug must not poison the stream: keep the message for a human and move on.
            log.exception("%s: handler failed on %s", self.config.worker_id, topic_name)
            letter = DeadLetter(topic_name, payload, f"internal error: {type(exc).__name__}: "
                                f"{exc}"[:2000], received_at)
            return IngestBatch(received_at, None, dead_letters=(letter,))

    async def _send_ack(self, client: aiomqtt.Client, batch: IngestBatch) -> None:
        if batch.gateway is None or not batch.ack_ids:
            return
        ack = Ack(msg_ids=batch.ack_ids)
        await client.publish(topic(batch.gateway, TopicKind.ACK), encode(ack), qos=1)


async def retire(config: IngestConfig) -> None:
    """Delete this worker's persistent session at the broker (scale-in).

    A forgotten persistent member of a shared subscription keeps taking its share of
    messages, which then sit queued for nobody (architecture.md §3.9, experiment 5).
    """
    async with make_client(config, retire=True):
        pass
    log.info("%s retired: session deleted", config.worker_id)


async def run_until_stopped(worker: IngestWorker, stop: asyncio.Event) -> None:
    """Run ``worker`` until ``stop`` is set; cancelling disconnects cleanly (session kept)."""
    async with asyncio.TaskGroup() as tasks:
        task = tasks.create_task(worker.run())
        await stop.wait()
        task.cancel()
