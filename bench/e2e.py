"""End to end: a simulated device's urgent reading → the dashboard's SSE stream.

    python -m bench.e2e [--quick] [--gateways N] [--probes N]

Real processes: mosquitto, one ingest worker (``python -m cloud_api.ingest``), the API
under uvicorn (subprocess, SQLite). A fleet of simulated gateways (one MQTT connection
each, anonymous on a loopback broker) streams ``vitals.wire`` readings batches in the
background. A probe picks a gateway, evaluates an urgent glucose reading with the gateway's
own rule engine (``edge_rules``) and publishes the readings batch and the alerts batch as
that gateway would; latency = publish time → the ``alert.raised`` event for that alert on
``GET /api/v1/stream`` (read like the dashboard reads it: fetch-style streaming with the
bearer header). Every reading is marked simulated.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiomqtt
import httpx
from argon2 import PasswordHasher

from cloud_api import security
from cloud_api.dashboard.demo_data import care_team
from cloud_api.db.directory import create_org, create_patient, create_user, register_gateway
from cloud_api.db.engine import make_engine, session_factory
from cloud_api.db.migrate import upgrade
from cloud_api.db.models import Role
from edge_rules.engine import evaluate
from edge_rules.ruleset import load_ruleset
from edge_rules.state import EngineState
from firmware_sim.services import ManagedProcess, Mosquitto, free_port, spawn
from vitals.alerts import Severity
from vitals.ids import new_msg_id
from vitals.readings import BloodPressure, DeviceRef, Glucose
from vitals.topics import TopicKind, topic
from vitals.units import GlucoseUnit
from vitals.wire import AlertsBatch, ReadingsBatch, encode

REPO = Path(__file__).resolve().parents[1]
CUFF = DeviceRef(make="Omron", model="BP7450", serial="SIM-BENCH-BP")
METER = DeviceRef(make="Roche", model="Accu-Chek Guide", serial="SIM-BENCH-GL")
RULES = load_ruleset()


def provision(db_url: str, gateways: int) -> None:
    security._HASHER = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    engine = make_engine(db_url)
    upgrade(engine)
    with session_factory(engine).begin() as db:
        create_org(db, "bench-clinic", "Bench Clinic")
        for i in range(gateways):
            create_patient(db, "bench-clinic", f"bp-{i:05d}", f"Bench {i} (simulated)")
            register_gateway(db, f"gw-{i:05d}", [f"bp-{i:05d}"])
        clinician = create_user(db, "bench-clinic", "bench", "bench", Role.CLINICIAN)
        # clinical access is through care-team panels: one team with the whole fleet
        care_team(db, clinician, tuple(f"bp-{i:05d}" for i in range(gateways)))
    engine.dispose()


def background_batch(i: int) -> bytes:
    now = datetime.now(UTC)
    r = BloodPressure(msg_id=new_msg_id(now), patient=f"bp-{i:05d}", device=CUFF,
                      measured_at=now, simulated=True, systolic=random.randint(110, 140),
                      diastolic=random.randint(65, 88), pulse=random.randint(58, 90))
    return encode(ReadingsBatch(gateway=f"gw-{i:05d}", sent_at=now, items=(r,)))


def urgent(i: int) -> tuple[bytes, bytes, str]:
    """A 45 mg/dL reading and the urgent alert the gateway's rule engine raises for it."""
    now = datetime.now(UTC)
    g = Glucose(msg_id=new_msg_id(now), patient=f"bp-{i:05d}", device=METER, measured_at=now,
                simulated=True, mg_dl=45, value_received=45, unit_received=GlucoseUnit.MG_DL)
    alerts, _ = evaluate([g], EngineState(), now, ruleset=RULES)
    [alert] = [a for a in alerts if a.severity is Severity.URGENT]
    gw = f"gw-{i:05d}"
    return (encode(ReadingsBatch(gateway=gw, sent_at=now, items=(g,))),
            encode(AlertsBatch(gateway=gw, sent_at=now, items=(alert,))), alert.alert_id)


async def gateway_loop(i: int, broker: Mosquitto, period_s: float, stop: asyncio.Event,
                       outbox: asyncio.Queue[tuple[bytes, bytes, str]],
                       sent: dict[str, float], ready: asyncio.Event, counter: list[int]) -> None:
    """One simulated gateway: a reading batch every ``period_s`` (jittered), probes on demand."""
    async with aiomqtt.Client(broker.host, broker.port, identifier=f"gw-{i:05d}",
                              keepalive=60) as client:
        counter[0] += 1
        if counter[0] == counter[1]:
            ready.set()
        await asyncio.sleep(random.uniform(0, period_s))
        while not stop.is_set():
            try:
                readings, alerts, alert_id = await asyncio.wait_for(outbox.get(), period_s)
            except TimeoutError:
                await client.publish(topic(f"gw-{i:05d}", TopicKind.READINGS),
                                     background_batch(i), qos=1)
                counter[2] += 1
                continue
            sent[alert_id] = time.perf_counter()
            await client.publish(topic(f"gw-{i:05d}", TopicKind.READINGS), readings, qos=1)
            await client.publish(topic(f"gw-{i:05d}", TopicKind.ALERTS), alerts, qos=1)


async def watch(base: str, token: str, seen: dict[str, float], connected: asyncio.Event,
                progress: asyncio.Event, stop: asyncio.Event) -> None:
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    async with httpx.AsyncClient(base_url=base, timeout=None) as http, \
            http.stream("GET", "/api/v1/stream", headers=headers) as resp:
        resp.raise_for_status()
        event = ""
        async for line in resp.aiter_lines():
            if line.startswith(": connected"):
                connected.set()
            elif line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == "alert.raised":
                data = json.loads(line[6:])
                seen.setdefault(data["alert_id"], time.perf_counter())
                progress.set()
            if stop.is_set():
                return


async def run(args: argparse.Namespace, workdir: Path) -> dict[str, float | int | str]:
    db_url = f"sqlite:///{workdir}/cloud.db"
    t0 = time.perf_counter()
    provision(db_url, args.gateways)
    print(f"provisioned {args.gateways} gateways in {time.perf_counter() - t0:.1f} s")
    broker = Mosquitto(workdir / "mosquitto").start()
    procs: list[ManagedProcess] = []
    env = {"PYTHONPATH": str(REPO), "HOMERPM_DATABASE_URL": db_url,
           "HOMERPM_JWT_SECRET": "bench-e2e-" + "k" * 32, "HOMERPM_SSE_POLL_S": str(args.poll_s),
           "HOMERPM_ALERTING_LOOPS": "false", "HOMERPM_MIGRATE_ON_START": "false"}
    try:
        procs.append(spawn("ingest", [sys.executable, "-m", "cloud_api.ingest", "--id", "bench",
                                      "--broker", f"mqtt://{broker.host}:{broker.port}",
                                      "--db", db_url], workdir / "ingest", env=env))
        port = free_port()
        procs.append(spawn("api", [sys.executable, "-m", "uvicorn", "--factory",
                                   "cloud_api.api.app:create_app", "--host", "127.0.0.1",
                                   "--port", str(port), "--log-level", "warning"],
                           workdir / "api", env=env))
        base = f"http://127.0.0.1:{port}"
        token = await _login(base)
        return await _measure(args, broker, base, token)
    finally:
        for p in reversed(procs):
            p.stop()
        broker.stop()


async def _login(base: str) -> str:
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(base_url=base) as http:
        while True:
            try:
                r = await http.post("/api/v1/auth/token",
                                    data={"username": "bench", "password": "bench"})
                if r.status_code == 200:
                    token: str = r.json()["access_token"]
                    return token
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("API did not come up")
            await asyncio.sleep(0.2)


async def _measure(args: argparse.Namespace, broker: Mosquitto, base: str,
                   token: str) -> dict[str, float | int | str]:
    stop, ready, connected = asyncio.Event(), asyncio.Event(), asyncio.Event()
    progress = asyncio.Event()
    sent: dict[str, float] = {}
    seen: dict[str, float] = {}
    counter = [0, args.gateways, 0]  # connected, wanted, background batches
    boxes = [asyncio.Queue[tuple[bytes, bytes, str]]() for _ in range(args.gateways)]
    async with asyncio.TaskGroup() as tg:
        watcher = tg.create_task(watch(base, token, seen, connected, progress, stop))
        fleet = []
        for i in range(args.gateways):
            fleet.append(tg.create_task(gateway_loop(i, broker, args.period_s, stop, boxes[i],
                                                     sent, ready, counter)))
            if i % 50 == 49:
                await asyncio.sleep(0.05)  # don't storm the broker's accept queue
        await asyncio.wait_for(ready.wait(), 120)
        await asyncio.wait_for(connected.wait(), 30)
        print(f"{args.gateways} gateways connected; warming up {args.warmup_s:.0f} s")
        await asyncio.sleep(args.warmup_s)
        started, bg0 = time.perf_counter(), counter[2]
        for _ in range(args.probes):
            i = random.randrange(args.gateways)
            boxes[i].put_nowait(urgent(i))
            await asyncio.sleep(args.probe_every_s)
        deadline = time.perf_counter() + args.timeout_s
        while len(seen.keys() & sent.keys()) < args.probes:
            progress.clear()
            try:
                await asyncio.wait_for(progress.wait(), max(0.0, deadline - time.perf_counter()))
            except TimeoutError:
                break
        elapsed = time.perf_counter() - started
        background = counter[2] - bg0
        stop.set()
        watcher.cancel()
        for t in fleet:
            t.cancel()
    lat = sorted((seen[a] - sent[a]) * 1000 for a in sent if a in seen)
    lost = args.probes - len(lat)
    nan = [float("nan")] * 99
    q = statistics.quantiles(lat, n=100, method="inclusive") if len(lat) >= 2 else nan
    return {"gateways": args.gateways, "events": len(lat), "lost": lost,
            "p50_ms": round(q[49], 1), "p90_ms": round(q[89], 1), "p99_ms": round(q[98], 1),
            "max_ms": round(lat[-1], 1) if lat else float("nan"),
            "background_batches_per_s": round(background / elapsed, 1),
            "sse_poll_s": args.poll_s}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 gateways, 30 probes")
    parser.add_argument("--gateways", type=int, default=None)
    parser.add_argument("--probes", type=int, default=None)
    parser.add_argument("--period-s", type=float, default=10.0,
                        help="each gateway sends a readings batch this often")
    parser.add_argument("--probe-every-s", type=float, default=0.5)
    parser.add_argument("--poll-s", type=float, default=0.1,
                        help="HOMERPM_SSE_POLL_S for the API (the stream polls the event table)")
    parser.add_argument("--warmup-s", type=float, default=None)
    parser.add_argument("--timeout-s", type=float, default=10.0)
    args = parser.parse_args(argv)
    args.gateways = args.gateways or (100 if args.quick else 1000)
    args.probes = args.probes or (30 if args.quick else 200)
    args.warmup_s = args.warmup_s if args.warmup_s is not None else (3 if args.quick else 10)
    with tempfile.TemporaryDirectory(prefix="bench-e2e-") as tmp:
        result = asyncio.run(run(args, Path(tmp)))
    print()
    print(f"{'metric':<28}{'value':>12}")
    for k, v in result.items():
        print(f"{k:<28}{v!s:>12}")
    print(json.dumps(result))
    return 0 if result["lost"] == 0 else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
