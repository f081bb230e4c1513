"""The ingest worker loop: receive → handle → batch → durable write → e2e acks → MQTT acks.

Messages are handled in the order the (alerts-first) queue yields them and batched across
messages (``batch_max_records`` or ``batch_max_delay_s``, whichever comes first; an alert
flushes at once). One durable write per batch, then one e2e ack per gateway, then a PUBACK
per message. If the sink cannot write, the worker keeps the batch and retries with backoff
without acking; if it dies meanwhile, the broker redelivers from our persistent session.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from cloud_api.ingest.batch import DeadLetter, IngestBatch
from cloud_api.ingest.client import ManualAckClient, priority
from cloud_api.ingest.config import IngestConfig
from cloud_api.ingest.directory import CachedDirectory
from cloud_api.ingest.handler import GatewayDirectory, handle
from cloud_api.ingest.sinks import BatchRejected, ReadingSink, StatusSink, StoreUnavailable
from cloud_api.ingest.trace import WriteTrace
from vitals.readings import now_utc
from vitals.status import GatewayStatus
from vitals.topics import TopicError, TopicKind, parse, topic
from vitals.wire import Ack, StatusMessage, WireError, decode, encode

log = logging.getLogger(__name__)
STATUS_BATCH = 500  # statuses per presence write at most


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


@dataclass(frozen=True, slots=True)
class _Received:
    message: aiomqtt.Message
    payload: bytes
    batch: IngestBatch


@dataclass
class _Pending:
    """Messages handled but not yet written; bounded by Receive Maximum (the broker stops)."""

    items: list[_Received] = field(default_factory=list)
    size: int = 0
    first_at: float = 0.0

    def add(self, item: _Received) -> None:
        if not self.items:
            self.first_at = time.monotonic()
        self.items.append(item)
        self.size += item.batch.size

    def take(self, limit: int) -> list[_Received]:
        """The oldest messages, up to ``limit`` records (at least one message)."""
        count = size = 0
        while count < len(self.items) and (count == 0 or size < limit):
            size += self.items[count].batch.size
            count += 1
        taken, self.items = self.items[:count], self.items[count:]
        self.size -= size
        return taken  # a remainder keeps its first_at: it is due at once


@dataclass
class WorkerStats:
    messages: int = 0
    flushes: int = 0
    readings: int = 0  # readings written (new or duplicate)
    stored: int = 0
    duplicates: int = 0
    dead_lettered: int = 0


class IngestWorker:
    """Receive → handle → batch (size or time) → one durable write → e2e acks → PUBACKs.

    Three tasks per connection: the receiver decodes messages into the pending batch while
    the flusher writes the previous one (one write in flight, its acks going out beside the
    next write), and the status task stores gateway statuses. The broker's in-flight window
    (Receive Maximum) is the back-pressure: when we stop acking, it stops sending.
    """

    def __init__(
        self, config: IngestConfig, sink: ReadingSink, directory: GatewayDirectory,
        trace: WriteTrace | None = None,
    ) -> None:
        self.config = config
        self.sink = sink
        self.trace = trace  # --trace-writes: per flush, when it was received/written/acked
        # A CachedDirectory given is shared (main.py hands the SeriesSink's status path the same).
        self.directory = (directory if isinstance(directory, CachedDirectory)
                          else CachedDirectory(directory, config.directory_ttl_s))
        self.connected = asyncio.Event()  # set while subscribed (tests and health wait on it)
        self.stats = WorkerStats()
        self._pending = _Pending()
        self._nonempty = asyncio.Event()
        self._full = asyncio.Event()

    async def run(self) -> None:
        """Consume until cancelled, reconnecting with exponential backoff.

        A time-series ``StoreConfigError`` is not caught: it ends the worker (fatal).
        """
        delay = self.config.backoff_initial_s
        while True:
            try:
                await self._session()
            except* aiomqtt.MqttError as group:
                if self.connected.is_set():  # we had a working session: start backoff afresh
                    delay = self.config.backoff_initial_s
                log.warning("%s: %s; reconnecting in %.1f s", self.config.worker_id,
                            group.exceptions[0], delay)
            finally:
                self.connected.clear()
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.config.backoff_max_s)

    async def _session(self) -> None:
        client = make_client(self.config)
        async with client:
            # Our e2e acks (one per gateway per flush) go out concurrently.
            client.pending_calls_threshold = 10_000
            for filter_ in self.config.subscriptions():
                await client.subscribe(filter_, qos=1)
            log.info("%s subscribed to %s", self.config.worker_id, self.config.subscriptions())
            self._pending = _Pending()  # unacked leftovers of a lost connection come again
            self._nonempty.clear()
            self._full.clear()
            self.connected.set()
            # Bounded by Receive Maximum: a status is PUBACKed only once stored.
            statuses: asyncio.Queue[tuple[aiomqtt.Message, bytes]] = asyncio.Queue()
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(self._receive(client, statuses))
                tasks.create_task(self._flush_loop(client, tasks))
                tasks.create_task(self._status_loop(client, statuses))

    async def _receive(self, client: ManualAckClient,
                       statuses: asyncio.Queue[tuple[aiomqtt.Message, bytes]]) -> None:
        async for message in client.messages:
            payload = message.payload if isinstance(message.payload, bytes) else (
                str(message.payload or "").encode()
            )
            if str(message.topic).endswith("/status"):
                # Presence for the cloud rules: stored at once by its own task, never
                # batched with readings — and never in their way: a status write (archive
                # transaction + a gw_health point) takes ~10 ms, and every worker gets every
                # gateway's status, so a fleet (re)connecting used to stall readings here
                # for 0.4–0.6 s per 40 gateways (docs/performance.md "Session 4").
                statuses.put_nowait((message, payload))
                continue
            batch = await self._handle(str(message.topic), payload)
            self._pending.add(_Received(message, payload, batch))
            self.stats.messages += 1
            # Alerts go out at once, with whatever readings wait with them.
            if (self._pending.size >= self.config.batch_max_records
                    or priority(str(message.topic)) == 0):
                self._full.set()
            self._nonempty.set()

    async def _status_loop(self, client: ManualAckClient,
                           statuses: asyncio.Queue[tuple[aiomqtt.Message, bytes]]) -> None:
        while True:
            # Whatever has queued meanwhile goes in one write (a fleet reconnecting sends
            # every worker one status per gateway at once).
            taken = [await statuses.get()]
            while not statuses.empty() and len(taken) < STATUS_BATCH:
                taken.append(statuses.get_nowait())
            await self._statuses([(str(m.topic), payload) for m, payload in taken])
            for message, _ in taken:
                client.ack(message)

    async def _flush_loop(self, client: ManualAckClient, tasks: asyncio.TaskGroup) -> None:
        acking: asyncio.Task[None] | None = None
        while True:
            await self._nonempty.wait()
            wait = self._pending.first_at + self.config.batch_max_delay_s - time.monotonic()
            if wait > 0 and not self._full.is_set():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        await self._full.wait()
            # After a long retry the pending batch may be large: write it in bounded slices.
            items = self._pending.take(self.config.batch_max_records)
            if not self._pending.items:
                self._nonempty.clear()
            if self._pending.size < self.config.batch_max_records:
                self._full.clear()
            if not items:
                continue
            started = time.time()
            groups = await self._write(items)
            written = time.time()
            self.stats.flushes += 1
            # The acks of the previous write go first (acks leave in write order), and at
            # most one ack step is in flight. The next write does not wait for this one's
            # broker round trips: they used to stall the flush cycle (docs/performance.md
            # "Session 4").
            if acking is not None:
                await acking
            acking = tasks.create_task(self._ack(client, items, groups, started, written))

    async def _ack(self, client: ManualAckClient, items: Sequence[_Received],
                   groups: Sequence[IngestBatch], started: float, written: float) -> None:
        """After the durable write of ``items``: e2e ack per gateway, then PUBACK per message."""
        acked: float | None = None
        try:
            acks = [self._send_ack(client, g) for g in groups if g.gateway and g.ack_ids]
            await asyncio.gather(*acks)
            for item in items:
                client.ack(item.message)
            acked = time.time()
        finally:  # the write happened even if the acks were cut short (shutdown, lost link)
            if self.trace is not None:
                self.trace.record(
                    [(i.batch.received_at.timestamp(), i.batch.ack_ids) for i in items],
                    started, written, acked)

    async def _write(self, items: Sequence[_Received]) -> list[IngestBatch]:
        """One write for all ``items`` (retried in place while the store is unavailable);
        if the store refuses the lot, message by message so only the bad one is dead-lettered."""
        groups = by_gateway([i.batch for i in items])
        try:
            await self._write_retrying(groups)
            return groups
        except BatchRejected:
            pass
        written: list[IngestBatch] = []
        for item in items:
            try:
                await self._write_retrying([item.batch])
                written.append(item.batch)
            except BatchRejected as exc:
                log.error("%s: store rejected %s: %s", self.config.worker_id,
                          item.message.topic, exc)
                batch = item.batch
                letter = DeadLetter(str(item.message.topic), item.payload,
                                    f"rejected by the store: {exc}"[:2000],
                                    batch.received_at, batch.gateway)
                batch = IngestBatch(batch.received_at, batch.gateway, dead_letters=(letter,),
                                    ack_ids=batch.ack_ids, tenant=batch.tenant)
                await self._write_retrying([batch])
                written.append(batch)
        return by_gateway(written)

    async def _write_retrying(self, groups: Sequence[IngestBatch]) -> None:
        delay = self.config.backoff_initial_s
        while True:
            try:
                result = await self.sink.write_many(groups)
                break
            except StoreUnavailable as exc:
                # Not acked: the messages stay ours at the broker (and in memory) meanwhile.
                log.warning("%s: store unavailable (%s); retrying in %.1f s",
                            self.config.worker_id, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.config.backoff_max_s)
        self.stats.readings += sum(len(g.readings) for g in groups)
        self.stats.stored += result.stored
        self.stats.duplicates += result.duplicates
        self.stats.dead_lettered += result.dead_lettered
        log.debug("%s: %s", self.config.worker_id, result)

    async def _statuses(self, received: Sequence[tuple[str, bytes]]) -> None:
        """Gateway presence (retained status, Last Will) for the cloud rules; no e2e ack."""
        received_at = now_utc()
        good: list[GatewayStatus] = []
        letters: list[DeadLetter] = []
        for topic_name, payload in received:
            if not payload:
                continue  # a cleared retained message
            try:
                gateway = parse(topic_name).gateway
                message = decode(payload)
                if not isinstance(message, StatusMessage) or message.status.gateway != gateway:
                    raise WireError("not a status message of the topic's gateway")
            except (TopicError, WireError) as exc:
                letters.append(DeadLetter(topic_name, payload, f"status: {exc}", received_at))
                continue
            good.append(message.status)
        if letters:
            await self.sink.write(IngestBatch(received_at, None, dead_letters=tuple(letters)))
        # Look the lot up now, in one call, into the cache shared with the SeriesSink (its
        # gw_health tenant tags) and the readings' path: a gateway says it is online before
        # it sends readings, whose first look-up would otherwise each queue in the receive
        # loop (docs/performance.md "Session 4").
        if good:
            with contextlib.suppress(StoreUnavailable):  # each later look-up says so if so
                await self.directory.prefetch([s.gateway for s in good])
        if good and isinstance(self.sink, StatusSink):
            await self.sink.write_statuses(good, received_at)

    async def _handle(self, topic_name: str, payload: bytes) -> IngestBatch:
        received_at = now_utc()
        delay = self.config.backoff_initial_s
        while True:
            try:
                batch = await handle(topic_name, payload, self.directory, received_at)
                if batch.dead_letters and self.directory.forget(batch.gateway):
                    # A cached assignment may predate a new patient: judge again, fresh.
                    batch = await handle(topic_name, payload, self.directory, received_at)
                return batch
            except StoreUnavailable as exc:
                log.warning("%s: directory unavailable (%s); retrying in %.1f s",
                            self.config.worker_id, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.config.backoff_max_s)
            except Exception as exc:
                # A bug must not poison the stream: keep the message for a human and move on.
                log.exception("%s: handler failed on %s", self.config.worker_id, topic_name)
                letter = DeadLetter(topic_name, payload, f"internal error: {type(exc).__name__}: "
                                    f"{exc}"[:2000], received_at)
                return IngestBatch(received_at, None, dead_letters=(letter,))

    async def _send_ack(self, client: aiomqtt.Client, batch: IngestBatch) -> None:
        assert batch.gateway is not None
        ack = Ack(msg_ids=batch.ack_ids)
        await client.publish(topic(batch.gateway, TopicKind.ACK), encode(ack), qos=1)


def by_gateway(batches: Sequence[IngestBatch]) -> list[IngestBatch]:
    """Merge batches per gateway (acks and the archive's gateway column are per gateway)."""
    merged: dict[str | None, IngestBatch] = {}
    for batch in batches:
        seen = merged.get(batch.gateway)
        merged[batch.gateway] = batch if seen is None else seen.merge(batch)
    return list(merged.values())


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
