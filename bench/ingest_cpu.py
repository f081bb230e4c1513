"""Ingest worker CPU per reading, stage by stage, in one process: ``python -m bench.ingest_cpu``.

The same code path a worker runs on each MQTT message, without the broker and the stores'
servers: decode + validate (``handler.handle``), reading → points (``schema.points_for``),
points → line protocol (``influx_v1._encode``: influxdb-client ``Point``), the request body
(joined, gzipped once per 5000 points), and the archive write (``SqlStore._write`` into SQLite
on /dev/shm, 25 messages of 200 readings per transaction like the worker's 5000-record
batches; ``archive_rows``, the row dicts, is the part of it spent before the SQL). Payloads are the
fleet generator's blood-pressure batches (``firmware_sim.fleet``).

The collector is tuned as in the worker (``cloud_api.gc_tuning.tune_gc``) unless
``--default-gc``. Figures are thread CPU time (``time.thread_time``) per reading, best of
``--repeat`` rounds (the machine is shared; the minimum is the least disturbed). The SQL
stage runs once per round on a fresh database, so it includes SQLite's own work and the
fsyncs' CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from cloud_api.db.directory import GatewayAssignment
from cloud_api.db.engine import make_engine
from cloud_api.gc_tuning import tune_gc
from cloud_api.ingest.batch import IngestBatch
from cloud_api.ingest.handler import handle
from cloud_api.ingest.sinks import MemorySink, SqlStore, _reading_rows
from cloud_api.tsdb.influx_v1 import _encode
from cloud_api.tsdb.schema import points_for
from firmware_sim.fleet import FleetSpec, gateway_id, patient_id, provision, readings_for
from vitals.topics import TopicKind, topic
from vitals.wire import ReadingsBatch, encode

PER_MESSAGE = 200
PER_TRANSACTION = 25  # messages: 5000 readings, the worker's batch limit


def payloads(spec: FleetSpec) -> list[tuple[str, bytes]]:
    out: list[tuple[str, bytes]] = []
    sent = datetime(2026, 1, 2, tzinfo=UTC)
    for index in spec.indices:
        readings = list(readings_for(spec, index))
        for start in range(0, len(readings), PER_MESSAGE):
            batch = ReadingsBatch(gateway=gateway_id(spec.prefix, index), sent_at=sent,
                                  items=tuple(readings[start : start + PER_MESSAGE]))
            out.append((topic(batch.gateway, TopicKind.READINGS), encode(batch)))
    return out


def gzip_bodies(lines: list[str]) -> None:
    """The adapter's request bodies: lines joined and gzipped once per 5000-point request."""
    for i in range(0, len(lines), 5000):
        gzip.compress("\n".join(lines[i : i + 5000]).encode(), compresslevel=1)


def best_cpu(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.thread_time()
        fn()
        best = min(best, time.thread_time() - start)
    return best


def sql_cpu(spec: FleetSpec, batches: list[IngestBatch], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        shm = "/dev/shm" if Path("/dev/shm").is_dir() else None
        with tempfile.TemporaryDirectory(dir=shm) as d:
            url = f"sqlite:///{d}/archive.db"
            provision(url, spec)
            engine = make_engine(url)
            store = SqlStore(engine)
            start = time.thread_time()
            for i in range(0, len(batches), PER_TRANSACTION):
                store._write(batches[i : i + PER_TRANSACTION])
            best = min(best, time.thread_time() - start)
            engine.dispose()
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest_cpu", description=__doc__)
    parser.add_argument("--gateways", type=int, default=20)
    parser.add_argument("--readings-per-gateway", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    parser.add_argument("--default-gc", action="store_true",
                        help="keep CPython's default GC thresholds (the worker tunes them)")
    args = parser.parse_args(argv)
    repeat = 3 if args.quick else args.repeat
    if not args.default_gc:
        tune_gc()  # as the worker does (cloud_api.gc_tuning)
    spec = FleetSpec(gateways=args.gateways, readings_per_gateway=args.readings_per_gateway,
                     host="-", port=0)
    messages = payloads(spec)
    directory = MemorySink([
        GatewayAssignment(gateway_id(spec.prefix, i), 1, frozenset({patient_id(spec.prefix, i)}))
        for i in spec.indices
    ])
    now = datetime.now(UTC)

    async def decode_all() -> list[IngestBatch]:
        return [await handle(t, p, directory, now) for t, p in messages]

    batches = asyncio.run(decode_all())
    readings = [r for b in batches for r in b.readings]
    n = len(readings)
    assert n == spec.gateways * spec.readings_per_gateway, "every reading must decode"
    points = [p for r in readings for p in points_for(r, "1")]
    lines = [line for _, line in _encode(points)]

    stages = {
        "decode_validate": best_cpu(lambda: asyncio.run(decode_all()), repeat),
        "points_for": best_cpu(lambda: [points_for(r, "1") for r in readings], repeat),
        "line_protocol": best_cpu(lambda: _encode(points), repeat),
        "gzip_body": best_cpu(lambda: gzip_bodies(lines), repeat),
        "archive_write": sql_cpu(spec, batches, repeat),
        "archive_rows": best_cpu(lambda: [_reading_rows(b) for b in batches], repeat),
    }
    us = {name: 1e6 * seconds / n for name, seconds in stages.items()}
    total = sum(v for k, v in us.items() if k != "archive_rows")  # rows are in archive_write
    load = os.getloadavg()[0]
    print(f"{n} readings in {len(messages)} messages, best of {repeat}, load {load:.1f}")
    print(f"{'stage':<18}{'µs/reading':>12}")
    for name, value in us.items():
        label = "  of which rows" if name == "archive_rows" else name
        print(f"{label:<18}{value:>12.1f}")
    print(f"{'total':<18}{total:>12.1f}")
    figures = {f"{name}_us": round(value, 2) for name, value in us.items()}
    figures |= {"total_us": round(total, 2), "readings_per_cpu_s": round(1e6 / total),
                "readings": n}
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
