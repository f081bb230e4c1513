"""A fleet of simulated gateways on real MQTT, through the REAL gateway outbox code.

Each simulated gateway owns an SQLite outbox (``gateway.outbox``), an MQTT connection
(``gateway.uplink.MqttUplink``, client id = gateway id, persistent session), a
``gateway.drain.Drainer`` and an ``AckHandler`` — the same at-least-once path a Raspberry Pi
runs. Only the devices are replaced: readings are minted from a seed, so every msg_id is
known in advance and loss is counted exactly (``expected_ids``). This is why
``firmware_sim.fleet`` imports ``gateway`` (an intended exception to the import table).

Readings are minted for every gateway before any gateway starts, and capturing starts once
every gateway of the process is connected, so the clock (first capture → last ack) and the
fleet's in-window CPU (``FleetResult.cpu_s``) hold only the gateways' real work: outbox
writes, leases, batching, MQTT publishes, acks. ``batch_max_items`` is the gateway Drainer's
readings per MQTT message (the gateway default is 200, wire v1 allows 1000). With a rate,
each gateway captures every ``TICK_S`` what is due (fractions carry over), its ticks offset
from its neighbours'.

Each capture is stamped (``ReadingTiming``): captured, committed to the outbox, leased by
the drainer, its batch published, PUBACKed, and the cloud's e2e ack handled. ``bench.ingest``
joins the publish stamps with the ingest workers' write traces for publish → durable write.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

from ulid import ULID

from gateway.batches import Batch
from gateway.drain import AckHandler, Drainer, DrainSettings
from gateway.outbox import AsyncOutbox, Caps, Row
from gateway.status import StatusReporter
from gateway.uplink import MqttSettings, MqttUplink
from vitals.readings import BloodPressure, DeviceRef
from vitals.topics import TopicKind, topic
from vitals.wire import Ack, WireError, decode

log = logging.getLogger(__name__)

# Measurement times start here (fixed, so the same seed gives the same points and ids).
BASE_TIME = datetime(2026, 1, 1, tzinfo=UTC)
DEVICE = DeviceRef(make="Omron", model="BP7450", serial="SIM-FLEET")
TICK_S = 0.1  # capture granularity when rate-limited


def gateway_id(prefix: str, index: int) -> str:
    return f"{prefix}-gw-{index:05d}"


def patient_id(prefix: str, index: int) -> str:
    return f"{prefix}-p-{index:05d}"


@dataclass(frozen=True, slots=True)
class FleetSpec:
    gateways: int
    readings_per_gateway: int
    host: str
    port: int
    rate: float = 0.0  # readings/s for the whole fleet; 0 = as fast as the outboxes drain
    seed: int = 1
    prefix: str = "fleet"
    first: int = 0  # index of our first gateway (a second process takes the next range)
    replay_fraction: float = 0.0  # re-capture this share of readings (same ids) once acked
    batch_max_items: int = 200
    username: str | None = None
    password: str | None = None

    @property
    def indices(self) -> range:
        return range(self.first, self.first + self.gateways)


def readings_for(spec: FleetSpec, index: int) -> Iterator[BloodPressure]:
    """Gateway ``index``'s readings, identical for the same seed (ids included)."""
    rng = random.Random(f"{spec.seed}:{spec.prefix}:{index}")
    patient = patient_id(spec.prefix, index)
    for i in range(spec.readings_per_gateway):
        at = BASE_TIME + timedelta(seconds=i)
        ms = int((at - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() * 1000)
        msg_id = str(ULID.from_bytes(ms.to_bytes(6, "big") + rng.randbytes(10)))
        yield BloodPressure(
            msg_id=msg_id, patient=patient, device=DEVICE, measured_at=at, simulated=True,
            systolic=float(rng.randint(100, 160)), diastolic=float(rng.randint(60, 95)),
            pulse=float(rng.randint(55, 95)),
        )


def expected_ids(spec: FleetSpec) -> set[str]:
    return {r.msg_id for i in spec.indices for r in readings_for(spec, i)}


class ReadingTiming(NamedTuple):
    """One capture of a reading, in ``time.time()`` seconds (comparable across processes on
    one host): captured, committed to the outbox, leased by the drainer, its batch handed to
    MQTT, PUBACKed by the broker, and the cloud's e2e ack handled by the gateway."""

    msg_id: str
    replay: bool  # a re-capture of an acked reading (the cloud must absorb it)
    captured: float
    put: float
    leased: float
    published: float
    puback: float
    acked: float


@dataclass
class FleetResult:
    captured: int = 0
    acked: int = 0
    replayed: int = 0
    timings: list[ReadingTiming] = field(default_factory=list)  # one per capture, when acked
    started: float = 0.0
    finished: float = 0.0
    cpu_started: float = 0.0  # process CPU (all threads) at the first capture
    cpu_s: float = 0.0  # process CPU from the first capture to the last ack

    @property
    def duration_s(self) -> float:
        return self.finished - self.started

    @property
    def latencies_ms(self) -> list[float]:
        """Capture → e2e ack back at the gateway, per capture."""
        return [(t.acked - t.captured) * 1000.0 for t in self.timings]


@dataclass
class _Stamps:
    """One gateway's per-reading times until its ack arrives (first time only: a row the
    drainer leases or publishes again keeps its first stamp)."""

    captured: dict[str, float] = field(default_factory=dict)
    put: dict[str, float] = field(default_factory=dict)
    leased: dict[str, float] = field(default_factory=dict)
    published: dict[str, float] = field(default_factory=dict)
    puback: dict[str, float] = field(default_factory=dict)
    replay: bool = False


class _TimedOutbox(AsyncOutbox):
    """The gateway's outbox, noting when the drainer leased each row."""

    def __init__(self, path: Path, caps: Caps, stamps: _Stamps) -> None:
        super().__init__(path, caps)
        self.stamps = stamps

    async def next_batch(self, limit: int, resend_only: bool = False) -> list[Row]:
        rows = await super().next_batch(limit, resend_only)
        now = time.time()
        for r in rows:
            self.stamps.leased.setdefault(r.msg_id, now)
        return rows


class _TimedDrainer(Drainer):
    """The gateway's drainer, noting when each row's batch went to MQTT and was PUBACKed."""

    def __init__(self, gateway: str, outbox: AsyncOutbox, uplink: MqttUplink,
                 settings: DrainSettings, stamps: _Stamps) -> None:
        super().__init__(gateway, outbox, uplink, settings)
        self.stamps = stamps

    async def _publish(self, batch: Batch, window: asyncio.Semaphore) -> None:
        now = time.time()
        for m in batch.msg_ids:
            self.stamps.published.setdefault(m, now)
        await super()._publish(batch, window)
        now = time.time()
        for m in batch.msg_ids:
            if m in self.stamps.captured:  # not acked yet (else the ack time stands in)
                self.stamps.puback.setdefault(m, now)


class _TimedAcks(AckHandler):
    """The gateway's ack handler, noting when each captured msg_id was acked."""

    def __init__(self, gateway: str, outbox: AsyncOutbox, uplink: MqttUplink,
                 stamps: _Stamps, result: FleetResult) -> None:
        super().__init__(gateway, outbox, uplink)
        self.stamps = stamps
        self.result = result
        self.progress = asyncio.Event()

    async def handle(self, topic: str, payload: bytes) -> None:
        now = time.time()
        s = self.stamps
        with contextlib.suppress(WireError):
            message = decode(payload)
            if isinstance(message, Ack):
                for msg_id in message.msg_ids:
                    at = s.captured.pop(msg_id, None)
                    if at is not None:
                        self.result.timings.append(ReadingTiming(
                            msg_id, s.replay, at, s.put.pop(msg_id, 0.0),
                            s.leased.pop(msg_id, 0.0), s.published.pop(msg_id, 0.0),
                            s.puback.pop(msg_id, now), now))
        await super().handle(topic, payload)
        self.progress.set()


async def _run_gateway(spec: FleetSpec, index: int, readings: list[BloodPressure],
                       workdir: Path, result: FleetResult, per_gateway_rate: float,
                       all_connected: asyncio.Barrier) -> None:
    gw = gateway_id(spec.prefix, index)
    # The resend timer as before the gateway's default became 60 s: a flat-out fleet
    # waits for acks longer than that, and resends would change what bench.ingest measures.
    stamps = _Stamps()
    outbox = _TimedOutbox(workdir / f"{gw}.sqlite3", Caps(resend_after_ms=600_000), stamps)
    reporter = StatusReporter(gw, topic(gw, TopicKind.STATUS), simulated=True)
    uplink = MqttUplink(MqttSettings(
        host=spec.host, port=spec.port, client_id=gw,
        status_topic=topic(gw, TopicKind.STATUS), subscriptions=(topic(gw, TopicKind.ACK),),
        username=spec.username, password=spec.password, max_inflight=32,
    ), reporter.online, reporter.offline)
    drainer = _TimedDrainer(gw, outbox, uplink, DrainSettings(
        batch_max_items=spec.batch_max_items, window=8, max_messages_per_s=0, idle_poll_s=0.2),
        stamps)
    acks = _TimedAcks(gw, outbox, uplink, stamps, result)
    replays = readings[: int(len(readings) * spec.replay_fraction)]
    try:
        async with asyncio.TaskGroup() as tasks:
            background = [tasks.create_task(c) for c in (uplink.run(), drainer.run(), acks.run())]
            await uplink.wait_connected()
            # The measured window starts once every gateway of this process is connected:
            # a fleet connecting (sessions, subscriptions, retained statuses the workers must
            # store) is not the sustained load this generator measures.
            await all_connected.wait()
            if per_gateway_rate > 0:  # gateways are not in lockstep: spread their ticks
                await asyncio.sleep(TICK_S * (index % 10) / 10)
            await _capture(readings, outbox, drainer, stamps, result, per_gateway_rate)
            await _wait_acked(acks, len(readings))
            if replays:  # the same readings again: the cloud must absorb them
                stamps.replay = True
                await _capture(replays, outbox, drainer, stamps, result, 0.0)
                result.replayed += len(replays)
                await _wait_acked(acks, len(readings) + len(replays))
            await uplink.go_offline()
            for task in background:
                task.cancel()
    finally:
        outbox.close()


async def _capture(readings: Sequence[BloodPressure], outbox: AsyncOutbox, drainer: Drainer,
                   stamps: _Stamps, result: FleetResult, rate: float) -> None:
    next_tick = time.monotonic()
    if not result.started:  # the clock starts at first capture
        result.started = time.monotonic()
        result.cpu_started = time.process_time()
    owed = 0.0  # paced: readings due but not yet captured (the fraction carries over)
    start = 0
    while start < len(readings):
        if rate > 0:
            owed += rate * TICK_S
            count = int(owed)
            owed -= count
        else:
            count = 1000
        part = readings[start:start + count]
        start += len(part)
        if part:
            now = time.time()
            for r in part:
                stamps.captured[r.msg_id] = now
            await outbox.put_many([(r, ()) for r in part])
            done = time.time()
            for r in part:
                stamps.put[r.msg_id] = done
            result.captured += len(part)
            drainer.notify()
        if rate > 0:
            next_tick += TICK_S
            await asyncio.sleep(max(0.0, next_tick - time.monotonic()))


async def _wait_acked(acks: _TimedAcks, count: int) -> None:
    while acks.acked < count:
        acks.progress.clear()
        await acks.progress.wait()


async def run_fleet(spec: FleetSpec, workdir: Path, timeout_s: float = 600.0) -> FleetResult:
    """Run every gateway of ``spec`` until all its readings are acked by the cloud."""
    await asyncio.to_thread(workdir.mkdir, parents=True, exist_ok=True)
    result = FleetResult()
    per_gateway = spec.rate / spec.gateways if spec.rate > 0 else 0.0
    minted = {index: list(readings_for(spec, index)) for index in spec.indices}
    # The minted readings (≈ 10 objects each, up to 100 000 a process in the default bench)
    # live until their gateway is done, and every full collection walked them all: the
    # collector took 0.37–0.40 s of a fleet process's 5.4–5.7 CPU-s window (40 gateways,
    # gc.callbacks; docs/performance.md "Session 3"), 0.07–0.09 s frozen (reference counting
    # still frees them) and 0.01 s with the `sim fleet` process's thresholds (fleet_cli).
    gc.freeze()
    all_connected = asyncio.Barrier(spec.gateways)
    try:
        async with asyncio.timeout(timeout_s), asyncio.TaskGroup() as tasks:
            for index in spec.indices:
                tasks.create_task(_run_gateway(spec, index, minted.pop(index), workdir, result,
                                               per_gateway, all_connected))
    finally:
        gc.unfreeze()
    result.finished = time.monotonic()
    result.cpu_s = time.process_time() - result.cpu_started
    result.acked = len(result.timings)
    return result


def provision(database_url: str, spec: FleetSpec, org: str = "fleet-org") -> None:
    """Register the fleet's organisation, patients and gateways in the cloud database.

    Imports ``cloud_api`` lazily: only this test/bench helper needs it.
    """
    from cloud_api.db import directory
    from cloud_api.db.engine import make_engine, session_factory
    from cloud_api.db.migrate import upgrade

    engine = make_engine(database_url)
    try:
        upgrade(engine)
        with session_factory(engine).begin() as db:
            directory.create_org(db, org, "Simulated fleet")
            for i in spec.indices:
                pid = patient_id(spec.prefix, i)
                directory.create_patient(db, org, pid, f"Fleet patient {i} (simulated)")
                directory.register_gateway(db, gateway_id(spec.prefix, i), [pid])
    finally:
        engine.dispose()
