"""Write throughput of both time-series stores: ``python -m bench.tsdb_write [--quick]``.

Points shaped like ``bp`` readings (2 tag-heavy series keys, 6 fields) for 1000 patients, written
in batches of 5000 — the ingest worker's batch size. SQLite runs with synchronous=FULL (what
ingest uses); InfluxDB is a private 1.6.7 started for the run. Also measures the line-protocol
serializer alone, since it bounds the InfluxDB adapter's client side.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

from cloud_api.tsdb.base import SeriesPoint
from cloud_api.tsdb.config import InfluxConfig
from cloud_api.tsdb.influx_v1 import InfluxV1Store, to_line
from cloud_api.tsdb.sqlite_store import SqliteStore
from firmware_sim.services import Influxd

T0 = 1_700_000_000_000
BATCH = 5000


def make_points(n: int) -> list[SeriesPoint]:
    return [
        SeriesPoint(
            "bp",
            {"tenant": "clinic-1", "patient": f"pz-{i % 1000:04d}", "device": f"cuff {i % 1000}"},
            {"systolic": 110.0 + i % 40, "diastolic": 70.0 + i % 20, "pulse": 60.0 + i % 30,
             "seq": i, "rx_ms": T0 + i * 1000 + 50, "simulated": True},
            T0 + i * 1000,
        )
        for i in range(n)
    ]


async def timed_writes(store: SqliteStore | InfluxV1Store, points: list[SeriesPoint]) -> float:
    start = time.perf_counter()
    for i in range(0, len(points), BATCH):
        result = await store.write(points[i : i + BATCH])
        assert result.ok, result.rejected[:1]
    return len(points) / (time.perf_counter() - start)


async def run(n: int, workdir: Path) -> dict[str, float]:
    points = make_points(n)
    start = time.perf_counter()
    for p in points:
        to_line(p)
    serialize = n / (time.perf_counter() - start)

    async with await SqliteStore.open(workdir / "ts.sqlite3") as sqlite:
        sqlite_rate = await timed_writes(sqlite, points)
        sqlite_dup = await timed_writes(sqlite, points)  # redelivery: every point an upsert
        assert await sqlite.count("bp", {}) == n

    server = Influxd(workdir / "influxd").start()
    try:
        async with InfluxV1Store(InfluxConfig(url=server.url, database="bench")) as influx:
            await influx.ensure_database()
            influx_rate = await timed_writes(influx, points)
            assert await influx.count("bp", {}) == n
            start = time.perf_counter()
            rows = await influx.query_range("bp", {"patient": "pz-0001"}, T0, T0 + n * 1000,
                                            every_ms=3_600_000)
            query_ms = (time.perf_counter() - start) * 1000
            assert rows
    finally:
        server.stop()
    return {
        "points": n,
        "sqlite_points_per_s": round(sqlite_rate),
        "sqlite_upsert_points_per_s": round(sqlite_dup),
        "influx_points_per_s": round(influx_rate),
        "line_protocol_points_per_s": round(serialize),
        "influx_downsample_query_ms": round(query_ms, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50k points instead of 300k")
    args = parser.parse_args()
    n = 50_000 if args.quick else 300_000
    with tempfile.TemporaryDirectory(prefix="bench-tsdb-") as tmp:
        figures = asyncio.run(run(n, Path(tmp)))
    width = max(map(len, figures))
    for key, value in figures.items():
        print(f"{key:<{width}}  {value:>12,}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
