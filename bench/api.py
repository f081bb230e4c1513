"""API latency under load: ``python -m bench.api [--quick]``.

Seeds a SQLite store with N patients × D days of readings (4 BP + 2 glucose a day, bulk
inserts), starts the real API under uvicorn on loopback, then C concurrent httpx clients
request a patient's 30-day trend (``GET /api/v1/patients/{id}/readings?since=…``) and the
patient list. Prints a table and, as the last line, a JSON object of figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert, select

from cloud_api.db.access_models import CareTeam, team_patients
from cloud_api.db.directory import DEMO_GATEWAY, DEMO_TEAM, seed_demo
from cloud_api.db.engine import make_engine, session_factory
from cloud_api.db.migrate import upgrade
from cloud_api.db.models import Patient, ReadingRow, gateway_patients
from firmware_sim.services import free_port, wait_for_port
from vitals.ids import new_msg_id

SECRET = "bench-secret-of-at-least-32-bytes-long!!"


def seed(url: str, patients: int, days: int) -> int:
    engine = make_engine(url)
    upgrade(engine)
    now = datetime.now(UTC).replace(microsecond=0)
    rng = random.Random(7)
    rows = 0
    with session_factory(engine).begin() as db:
        seed_demo(db)
        team = db.scalar(select(CareTeam).where(CareTeam.name == DEMO_TEAM))
        assert team is not None
        org_id = team.org_id
        ids = [f"bench-{i:05d}" for i in range(patients)]
        db.execute(insert(Patient), [{"id": p, "org_id": org_id, "display_name": p, "mrn": None,
                                      "created_at": now} for p in ids])
        db.execute(insert(team_patients), [{"team_id": team.id, "patient_id": p} for p in ids])
        db.execute(insert(gateway_patients), [{"gateway_id": DEMO_GATEWAY, "patient_id": p}
                                              for p in ids])
    device = {"make": "Omron", "model": "BP7450", "serial": "SIM-B"}
    batch: list[dict[str, object]] = []
    for n, p in enumerate(ids, 1):
        for d in range(days):
            for slot in range(6):
                at = now - timedelta(days=d, hours=slot * 3, minutes=rng.randint(0, 59))
                msg = new_msg_id(at)
                if slot < 4:
                    body = {"msg_id": msg, "kind": "blood_pressure", "patient": p,
                            "device": device, "measured_at": at.isoformat(), "simulated": True,
                            "systolic": rng.randint(105, 170), "diastolic": rng.randint(60, 100),
                            "pulse": rng.randint(55, 95), "unit_received": "mmHg"}
                else:
                    body = {"msg_id": msg, "kind": "glucose", "patient": p, "device": device,
                            "measured_at": at.isoformat(), "simulated": True,
                            "mg_dl": rng.randint(70, 220), "value_received": 100,
                            "unit_received": "mg/dL"}
                batch.append({"msg_id": msg, "patient_id": p, "gateway_id": DEMO_GATEWAY,
                              "kind": body["kind"], "measured_at": at, "received_at": at,
                              "device_key": "SIM-B", "simulated": True, "body": body})
        if n % 25 == 0 or n == len(ids):  # one transaction (one fsync) per 25 patients
            with session_factory(engine).begin() as db:
                db.execute(insert(ReadingRow), batch)
            rows += len(batch)
            batch = []
    engine.dispose()
    return rows


async def load(base: str, token: str, patients: int, requests: int, concurrency: int,
               path_for: str) -> tuple[list[float], float]:
    since = (datetime.now(UTC) - timedelta(days=30)).isoformat()
    latencies: list[float] = []
    rng = random.Random(11)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(requests):
        queue.put_nowait(i)

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            queue.get_nowait()
            if path_for == "trend":
                pid = f"bench-{rng.randrange(patients):05d}"
                url, params = f"/api/v1/patients/{pid}/readings", {
                    "since": since, "limit": 1000, "kind": "blood_pressure"}
            else:
                url, params = "/api/v1/patients", {}
            t0 = time.perf_counter()
            r = await client.get(url, params=params)
            latencies.append((time.perf_counter() - t0) * 1000)
            r.raise_for_status()

    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
        start = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    return latencies, elapsed


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent clients")
    args = parser.parse_args(argv)
    patients, days, requests = (50, 30, 300) if args.quick else (1000, 90, 2000)
    concurrency = args.concurrency
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        t0 = time.perf_counter()
        rows = seed(url, patients, days)
        seed_s = time.perf_counter() - t0
        port = free_port()
        env = {**os.environ, "HOMERPM_DATABASE_URL": url, "HOMERPM_JWT_SECRET": SECRET}
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "cloud_api.api.app:create_app",
             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
            env=env, cwd=Path(__file__).resolve().parents[1])
        try:
            wait_for_port("127.0.0.1", port, 60, server)
            base = f"http://127.0.0.1:{port}"
            token = httpx.post(f"{base}/api/v1/auth/token",
                               data={"username": "demo", "password": "demo"}).json()["access_token"]
            results = {}
            for name in ("trend", "list"):
                n = requests if name == "trend" else max(50, requests // 10)
                lat, elapsed = asyncio.run(load(base, token, patients, n, concurrency, name))
                results[name] = (lat, elapsed)
        finally:
            server.terminate()
            server.wait(timeout=10)
    trend, trend_s = results["trend"]
    listing, _ = results["list"]
    print(f"seeded {patients} patients × {days} days = {rows} readings in {seed_s:.1f} s")
    print(f"{'endpoint':<28}{'n':>6}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for name, lat in (("30-day BP trend", trend), ("patient list", listing)):
        print(f"{name:<28}{len(lat):>6}{statistics.median(lat):>9.1f}{pct(lat, 0.99):>9.1f}"
              f"{max(lat):>9.1f}")
    load1 = os.getloadavg()[0]
    print(f"load average during the run: {load1:.1f} on {os.cpu_count()} CPUs (shared machine)")
    figures = {
        "patients": patients, "days": days, "readings": rows, "seed_s": round(seed_s, 1),
        "concurrency": concurrency, "requests": len(trend),
        "p50_ms": round(statistics.median(trend), 1), "p99_ms": round(pct(trend, 0.99), 1),
        "requests_per_s": round(len(trend) / trend_s, 1),
        "list_p50_ms": round(statistics.median(listing), 1),
        "list_p99_ms": round(pct(listing, 0.99), 1), "target_p99_ms": 100,
        "load_avg_1m": round(load1, 1),
    }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
