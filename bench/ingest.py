"""Cloud ingest end to end: ``python -m bench.ingest [--quick]``.

Fleet generator (M simulated gateways, real SQLite outboxes, one MQTT connection each, split
over ``--fleet-processes`` processes) → a private mosquitto → N ingest worker processes
(``$share`` group, batching, ack after the durable write) → the relational archive (SQLite)
and the time-series store (a private InfluxDB 1.6.7, or the embedded SQLite store).

Reports sustained readings/s (unique readings / time from the first capture to the last e2e
ack), p50/p99 **publish → durable write** (``p50_ms``/``p99_ms``: from the gateway drainer's
MQTT publish of the batch holding a reading to the return of the worker's durable write that
stored it — time series and archive transaction; the fleet's stamps joined by msg_id with
the workers' ``--trace-writes`` lines, all ``time.time()`` on this host; replayed duplicates
included, matched with the write that absorbed them), p50/p99 capture → e2e ack back at the
gateway (``capture_to_ack_*``, what ``p50_ms``/``p99_ms`` meant before 2026-11-26), a
per-stage table, readings per worker CPU-second (utime+stime of the worker processes from
/proc), the exact loss count (deterministic msg_ids vs. what both stores hold) and the
replayed duplicates absorbed.

CPU is reported per component so the generator's cost is never mistaken for the ingest
tier's: ``worker_cpu_s`` (the N workers), ``broker_cpu_s`` (mosquitto), ``influxd_cpu_s``,
and ``fleet_cpu_s`` (the fleet processes from their first capture to their last ack; minting
the readings happens before and is not counted). ``load_avg_start``/``load_avg_end`` are the
1-minute load averages (the machine is shared: compare figures from similar loads).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiomqtt
from sqlalchemy import func, select

from bench import _ingest_stages
from bench._stats import percentile
from cloud_api.db.engine import make_engine
from cloud_api.db.models import Organization, ReadingRow
from cloud_api.tsdb.config import InfluxConfig
from cloud_api.tsdb.influx_v1 import InfluxV1Store
from cloud_api.tsdb.sqlite_store import SqliteStore
from firmware_sim.fleet import (
    FleetSpec,
    ReadingTiming,
    expected_ids,
    gateway_id,
    provision,
    readings_for,
)
from firmware_sim.services import Influxd, ManagedProcess, Mosquitto, spawn
from vitals.topics import TopicKind, topic
from vitals.wire import ReadingsBatch, encode

REPO = Path(__file__).resolve().parents[1]
CLI = "import sys; from vitals.cli import main; sys.exit(main(sys.argv[1:]))"
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def service_cpu(service: Mosquitto | Influxd | None) -> float:
    process = getattr(service, "process", None)
    return cpu_seconds(process.pid) if process is not None else 0.0


def load_avg() -> float:
    return round(os.getloadavg()[0], 2)


def start_worker(i: int, broker: Mosquitto, db_url: str, tsdb: list[str],
                 workdir: Path, trace: bool = False) -> ManagedProcess:
    traced = ["--trace-writes", str(workdir / f"trace-{i}.jsonl")] if trace else []
    proc = spawn(f"ingest-{i}", [
        sys.executable, "-m", "cloud_api.ingest", "-v", "--id", f"ingest-{i}",
        "--broker", f"mqtt://{broker.host}:{broker.port}", "--db", db_url, *tsdb, *traced,
    ], workdir, env={"PYTHONPATH": str(REPO)})
    deadline = time.monotonic() + 60
    while "subscribed" not in proc.log():
        if proc.proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"worker ingest-{i} did not start:\n{proc.log()}")
        time.sleep(0.1)
    return proc


async def count_series(args: argparse.Namespace, influx: Influxd | None, ts_path: Path,
                       tenant: str) -> int:
    if influx is not None:
        async with InfluxV1Store(InfluxConfig(url=influx.url, database="bench")) as store:
            return await store.count("bp", {"tenant": tenant})
    local = await SqliteStore.open(str(ts_path))
    try:
        return await local.count("bp", {"tenant": tenant})
    finally:
        await local.aclose()


async def preload(broker: Mosquitto, specs: list[FleetSpec], per_message: int) -> int:
    """Publish every fleet reading straight to the broker (no outbox), as a backlog."""
    sent = 0
    async with aiomqtt.Client(broker.host, broker.port, identifier="bench-preload",
                              protocol=aiomqtt.ProtocolVersion.V5, max_inflight_messages=200,
                              socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]) as c:
        c.pending_calls_threshold = 10_000
        pending: list[asyncio.Task[None]] = []
        for spec in specs:
            for i in spec.indices:
                gw = gateway_id(spec.prefix, i)
                readings = list(readings_for(spec, i))
                for k in range(0, len(readings), per_message):
                    payload = encode(ReadingsBatch(gateway=gw, sent_at=datetime.now(UTC),
                                                   items=tuple(readings[k:k + per_message])))
                    pending.append(asyncio.create_task(
                        c.publish(topic(gw, TopicKind.READINGS), payload, qos=1)))
                    sent += 1
                    if len(pending) >= 200:
                        await asyncio.gather(*pending)
                        pending = []
        await asyncio.gather(*pending)
    return sent


def archived(db_url: str) -> int:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(select(func.count(ReadingRow.msg_id))) or 0)
    finally:
        engine.dispose()


def run(args: argparse.Namespace) -> dict[str, float | int | str]:
    shm = Path("/dev/shm")
    with tempfile.TemporaryDirectory(prefix="bench-ingest-",
                                     dir=shm if shm.is_dir() else None) as tmp:
        root = Path(tmp)
        broker = Mosquitto(root / "mosquitto").start()
        influx = Influxd(root / "influxd").start() if args.store == "influx" else None
        workers: list[ManagedProcess] = []
        fleets: list[ManagedProcess] = []
        try:
            db_url = f"sqlite:///{root}/cloud.db"
            ts_path = root / "tsdb.sqlite3"
            if influx is not None:
                asyncio.run(_create_db(influx))
                tsdb = ["--tsdb", "influx", "--influx-url", influx.url, "--influx-db", "bench"]
            else:
                tsdb = ["--tsdb", f"sqlite:{ts_path}"]
            per = args.gateways // args.fleet_processes
            specs = [FleetSpec(gateways=per, readings_per_gateway=args.readings_per_gateway,
                               host=broker.host, port=broker.port, seed=args.seed,
                               first=k * per, replay_fraction=args.replay)
                     for k in range(args.fleet_processes)]
            for spec in specs:
                provision(db_url, spec)
            workers = [start_worker(i, broker, db_url, tsdb, root, trace=args.mode == "fleet")
                       for i in range(args.workers)]
            if args.mode == "drain":
                return drain(args, broker, workers, specs, db_url, tsdb, root, influx, ts_path)
            cpu0 = [cpu_seconds(w.pid) for w in workers]
            services0 = service_cpu(broker), service_cpu(influx)
            load0 = load_avg()
            started = time.monotonic()
            for k, spec in enumerate(specs):
                fleets.append(spawn(f"fleet-{k}", [
                    sys.executable, "-c", CLI, "sim", "fleet", "--gateways", str(spec.gateways),
                    "--readings-per-gateway", str(spec.readings_per_gateway),
                    "--broker", f"mqtt://{broker.host}:{broker.port}", "--seed", str(args.seed),
                    "--first", str(spec.first), "--replay", str(args.replay),
                    "--rate", str(args.rate / args.fleet_processes),
                    "--workdir", str(root / f"fleet-{k}"),
                    "--latency-out", str(root / f"timings-{k}.json"),
                    "--timeout", str(args.timeout), "--batch-max-items", str(args.per_message),
                ], root, env={"PYTHONPATH": str(REPO)}))
            for fleet in fleets:
                if fleet.proc.wait(args.timeout + 30) != 0:
                    raise RuntimeError(f"fleet failed:\n{fleet.log()}")
            elapsed = time.monotonic() - started
            load1 = load_avg()
            cpu = sum(cpu_seconds(w.pid) - c for w, c in zip(workers, cpu0, strict=True))
            broker_cpu = service_cpu(broker) - services0[0]
            influx_cpu = service_cpu(influx) - services0[1]
            results = [json.loads(f.log().strip().splitlines()[-1]) for f in fleets]
            for w in workers:
                w.stop()  # the write traces are complete once the workers have exited
            timings = [ReadingTiming(*t) for k in range(len(fleets))
                       for t in json.loads((root / f"timings-{k}.json").read_text())]
            stages = _ingest_stages.load(
                timings, [root / f"trace-{i}.jsonl" for i in range(args.workers)])
            print(_ingest_stages.table(stages))
            if args.keep_traces:
                args.keep_traces.mkdir(parents=True, exist_ok=True)
                for f in [*root.glob("timings-*"), *root.glob("trace-*"), *root.glob("*.log")]:
                    shutil.copy(f, args.keep_traces)
            to_write = stages.column(_ingest_stages.PUBLISH_TO_WRITE)
            to_ack = stages.column(_ingest_stages.CAPTURE_TO_ACK)
            expected = set().union(*(expected_ids(s) for s in specs))
            engine = make_engine(db_url)
            with engine.connect() as conn:
                archived = set(conn.scalars(select(ReadingRow.msg_id)).all())
                org_id = conn.scalar(select(func.min(Organization.id)))
            engine.dispose()
            in_series = asyncio.run(count_series(args, influx, ts_path, str(org_id)))
            replayed = sum(int(r["replayed"]) for r in results)
            fleet_s = max(float(r["duration_s"]) for r in results)
            lost_archive = len(expected - archived)
            return {
                "gateways": args.gateways, "workers": args.workers,
                "time_series_store": "influxdb-1.6.7" if influx else "sqlite",
                "archive": "sqlite", "readings": len(expected),
                "readings_per_s": round(len(expected) / fleet_s, 1),
                "wall_s": round(elapsed, 2),
                "p50_ms": round(percentile(to_write, 0.50), 1),
                "p99_ms": round(percentile(to_write, 0.99), 1),
                "max_ms": round(max(to_write, default=float("nan")), 1),
                "capture_to_ack_p50_ms": round(percentile(to_ack, 0.50), 1),
                "capture_to_ack_p99_ms": round(percentile(to_ack, 0.99), 1),
                "latency_unmatched": stages.unmatched,
                "readings_per_worker_cpu_s": round((len(expected) + replayed) / cpu, 1),
                "per_message": args.per_message,
                "worker_cpu_s": round(cpu, 2),
                "worker_cpu_us_per_reading": round(1e6 * cpu / (len(expected) + replayed), 1),
                "broker_cpu_s": round(broker_cpu, 2), "influxd_cpu_s": round(influx_cpu, 2),
                "fleet_cpu_s": round(sum(float(r["cpu_s"]) for r in results), 2),
                "load_avg_start": load0, "load_avg_end": load1,
                "lost": max(lost_archive, len(expected) - in_series),
                "lost_archive": lost_archive, "lost_series": len(expected) - in_series,
                "extra_rows": len(archived - expected),
                "duplicates_absorbed": replayed if in_series == len(expected) else 0,
                "duplicates_replayed": replayed,
            }
        finally:
            for proc in (*fleets, *workers):
                if proc.proc.poll() is None:
                    proc.stop()
            if influx is not None:
                influx.stop()
            broker.stop()


def drain(args: argparse.Namespace, broker: Mosquitto, workers: list[ManagedProcess],
          specs: list[FleetSpec], db_url: str, tsdb: list[str], root: Path,
          influx: Influxd | None, ts_path: Path) -> dict[str, float | int | str]:
    """Backlog drain: workers stopped (sessions kept), the broker filled, workers started;
    the ingest tier's own ceiling, without the fleet simulator competing for the CPU."""
    for w in workers:
        w.stop()  # SIGTERM: clean disconnect, the persistent session stays
    messages = asyncio.run(preload(broker, specs, args.per_message))
    expected = set().union(*(expected_ids(s) for s in specs))
    workers[:] = [start_worker(i, broker, db_url, tsdb, root) for i in range(args.workers)]
    cpu0 = [cpu_seconds(w.pid) for w in workers]
    services0 = service_cpu(broker), service_cpu(influx)
    load0 = load_avg()
    started = time.monotonic()
    while archived(db_url) < len(expected) and time.monotonic() - started < args.timeout:
        time.sleep(0.2)
    elapsed = time.monotonic() - started
    load1 = load_avg()
    cpu = sum(cpu_seconds(w.pid) - c for w, c in zip(workers, cpu0, strict=True))
    broker_cpu = service_cpu(broker) - services0[0]
    influx_cpu = service_cpu(influx) - services0[1]
    engine = make_engine(db_url)
    with engine.connect() as conn:
        ids = set(conn.scalars(select(ReadingRow.msg_id)).all())
        org_id = conn.scalar(select(func.min(Organization.id)))
    engine.dispose()
    in_series = asyncio.run(count_series(args, influx, ts_path, str(org_id)))
    return {
        "mode": "drain", "gateways": args.gateways, "workers": args.workers,
        "time_series_store": "influxdb-1.6.7" if influx else "sqlite", "archive": "sqlite",
        "readings": len(expected), "messages": messages, "per_message": args.per_message,
        "readings_per_s": round(len(expected) / elapsed, 1),
        "readings_per_worker_cpu_s": round(len(expected) / cpu, 1),
        "worker_cpu_s": round(cpu, 2),
        "worker_cpu_us_per_reading": round(1e6 * cpu / len(expected), 1),
        "broker_cpu_s": round(broker_cpu, 2), "influxd_cpu_s": round(influx_cpu, 2),
        "load_avg_start": load0, "load_avg_end": load1,
        "lost": max(len(expected - ids), len(expected) - in_series),
    }


async def _create_db(influx: Influxd) -> None:
    async with InfluxV1Store(InfluxConfig(url=influx.url, database="bench")) as store:
        await store.ensure_database()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small run (< 1 min)")
    parser.add_argument("--gateways", type=int, default=100)
    parser.add_argument("--readings-per-gateway", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--fleet-processes", type=int, default=2)
    parser.add_argument("--rate", type=float, default=0.0, help="fleet readings/s (0 = flat out)")
    parser.add_argument("--replay", type=float, default=0.1, help="share replayed as duplicates")
    parser.add_argument("--store", choices=["influx", "sqlite"], default="influx")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--mode", choices=["fleet", "drain"], default="fleet",
                        help="fleet: live end to end; drain: workers empty a preloaded backlog")
    parser.add_argument("--per-message", type=int, default=200,
                        help="readings per MQTT message: the fleet gateways' Drainer batch size "
                             "(gateway default 200, wire v1 max 1000), or the preload's in drain")
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--keep-traces", type=Path, default=None, metavar="DIR",
                        help="copy the fleet timings, worker write traces and logs here")
    args = parser.parse_args(argv)
    if args.quick:
        args.gateways, args.readings_per_gateway, args.timeout = 20, 500, 45.0
    figures = run(args)
    print(f"{'figure':<28} value")
    for key, value in figures.items():
        print(f"{key:<28} {value}")
    print(json.dumps(figures))
    return 0 if figures["lost"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
