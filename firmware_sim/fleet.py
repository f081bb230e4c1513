"""A fleet of simulated gateways on real MQTT, through the REAL gateway outbox code.

Each simulated gateway owns an SQLite outbox (``gateway.outbox``), an MQTT connection
(``gateway.uplink.MqttUplink``, client id = gateway id, persistent session), a
``gateway.drain.Drainer`` and an ``AckHandler`` — the same at-least-once path a Raspberry Pi
runs. Only the devices are replaced: readings are minted from a seed, so every msg_id is
known in advance and loss is counted exactly (``expected_ids``). This is why
``firmware_sim.fleet`` imports ``gateway`` (an intended exception to the import table).

Readings are minted for every gateway before any gateway starts, so the clock (first capture →
last ack) and the fleet's in-window CPU (``FleetResult.cpu_s``) hold only the gateways' real
work: outbox writes, leases, batching, MQTT publishes, acks. ``batch_max_items`` is the
gateway Drainer's readings per MQTT message (the gateway default is 200, wire v1 allows 1000).
Latency = capture (reading put into the outbox) → the cloud's e2e ack arriving back at the
gateway: an upper bound of publish-to-durable-write (it adds the ack's trip).
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

from ulid import ULID

from gateway.drain import AckHandler, Drainer, DrainSettings
from gateway.outbox import AsyncOutbox, Caps
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


@dataclass
class FleetResult:
    captured: int = 0
    acked: int = 0
    replayed: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0
    cpu_started: float = 0.0  # process CPU (all threads) at the first capture
    cpu_s: float = 0.0  # process CPU from the first capture to the last ack

    @property
    def duration_s(self) -> float:
        return self.finished - self.started


class _TimedAcks(AckHandler):
    """The gateway's ack handler, noting when each captured msg_id was acked."""

    def __init__(self, gateway: str, outbox: AsyncOutbox, uplink: MqttUplink,
                 captured_at: dict[str, float], result: FleetResult) -> None:
        super().__init__(gateway, outbox, uplink)
        self.captured_at = captured_at
        self.result = result
        self.progress = asyncio.Event()

    async def handle(self, topic: str, payload: bytes) -> None:
        now = time.time()
        with contextlib.suppress(WireError):
            message = decode(payload)
            if isinstance(message, Ack):
                for msg_id in message.msg_ids:
                    at = self.captured_at.pop(msg_id, None)
                    if at is not None:
                        self.result.latencies_ms.append((now - at) * 1000.0)
        await super().handle(topic, payload)
        self.progress.set()


async def _run_gateway(spec: FleetSpec, index: int, readings: list[BloodPressure],
                       workdir: Path, result: FleetResult, per_gateway_rate: float) -> None:
    gw = gateway_id(spec.prefix, index)
    # The resend timer as before the gateway's default became 60 s: a flat-out fleet
    # waits for acks longer than that, and resends would change what bench.ingest measures.
    outbox = AsyncOutbox(workdir / f"{gw}.sqlite3", Caps(resend_after_ms=600_000))
    reporter = StatusReporter(gw, topic(gw, TopicKind.STATUS), simulated=True)
    uplink = MqttUplink(MqttSettings(
        host=spec.host, port=spec.port, client_id=gw,
        status_topic=topic(gw, TopicKind.STATUS), subscriptions=(topic(gw, TopicKind.ACK),),
        username=spec.username, password=spec.password, max_inflight=32,
    ), reporter.online, reporter.offline)
    drainer = Drainer(gw, outbox, uplink, DrainSettings(
        batch_max_items=spec.batch_max_items, window=8, max_messages_per_s=0, idle_poll_s=0.2))
    captured_at: dict[str, float] = {}
    acks = _TimedAcks(gw, outbox, uplink, captured_at, result)
    replays = readings[: int(len(readings) * spec.replay_fraction)]
    try:
        async with asyncio.TaskGroup() as tasks:
            background = [tasks.create_task(c) for c in (uplink.run(), drainer.run(), acks.run())]
            await uplink.wait_connected()
            await _capture(readings, outbox, drainer, captured_at, result, per_gateway_rate)
            await _wait_acked(acks, len(readings))
            if replays:  # the same readings again: the cloud must absorb them
                await _capture(replays, outbox, drainer, captured_at, result, 0.0)
                result.replayed += len(replays)
                await _wait_acked(acks, len(readings) + len(replays))
            await uplink.go_offline()
            for task in background:
                task.cancel()
    finally:
        outbox.close()


async def _capture(readings: Sequence[BloodPressure], outbox: AsyncOutbox, drainer: Drainer,
                   captured_at: dict[str, float], result: FleetResult, rate: float) -> None:
    chunk = max(1, int(rate * TICK_S)) if rate > 0 else 1000
    next_tick = time.monotonic()
    if not result.started:  # the clock starts at first capture
        result.started = time.monotonic()
        result.cpu_started = time.process_time()
    for start in range(0, len(readings), chunk):
        now = time.time()
        part = readings[start:start + chunk]
        await outbox.put_many([(r, ()) for r in part])
        for r in part:
            captured_at[r.msg_id] = now
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
    try:
        async with asyncio.timeout(timeout_s), asyncio.TaskGroup() as tasks:
            for index in spec.indices:
                tasks.create_task(_run_gateway(spec, index, minted.pop(index), workdir, result,
                                               per_gateway))
    finally:
        gc.unfreeze()
    result.finished = time.monotonic()
    result.cpu_s = time.process_time() - result.cpu_started
    result.acked = len(result.latencies_ms)
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
