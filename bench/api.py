"""API latency under load: ``python -m bench.api [--quick]``.

Seeds a SQLite store with N patients × D days of readings (4 BP + 2 glucose a day) and
alerts (≈ 0.4 per patient-week, mostly resolved; bench/_apiseed.py), starts the real API
under uvicorn on loopback in the recommended topology (docs/deploy.md: the alerting loops in
their own ``homerpm cloud alerting`` process, ``HOMERPM_ALERTING_LOOPS=false`` for the API;
``--alerting in-api`` runs them inside the API process instead; ``--workers N`` uvicorn
workers), then C concurrent httpx clients request, as the demo clinician
whose team has every patient on its panel: a patient's 30-day BP trend
(``GET /api/v1/patients/{id}/readings?since=…``), the alert inbox with the dashboard's
filters (``GET /api/v1/alerts?state=raised&state=delivered&state=acknowledged&limit=200``)
and the patient list: a closed loop, each client sending its next request when the last is
answered, i.e. the server saturated. Then an open loop (``--rate``, default 20 requests/s, a
trend/inbox/list mix): requests arrive on a Poisson schedule whatever the server's state, as
independent clinicians' do, and latency counts from the scheduled arrival. Prints a table
and, as the last line, a JSON object of figures (``open_*`` for the open loop).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench._apiseed import seed
from bench._stats import percentile
from firmware_sim.services import free_port, wait_for_port

SECRET = "bench-secret-of-at-least-32-bytes-long!!"
# What the dashboard's inbox page asks for (cloud_api/dashboard/static/js/inbox.js).
INBOX_QUERY = [("state", "raised"), ("state", "delivered"), ("state", "acknowledged"),
               ("limit", "200")]


def request_for(kind: str, rng: random.Random, patients: int, since: str) -> tuple[str, Any]:
    """(path, query) of one request of ``kind``: trend (a random patient), inbox or list."""
    if kind == "trend":
        pid = f"bench-{rng.randrange(patients):05d}"
        return f"/api/v1/patients/{pid}/readings", {
            "since": since, "limit": 1000, "kind": "blood_pressure"}
    if kind == "inbox":
        return "/api/v1/alerts", INBOX_QUERY
    return "/api/v1/patients", {}


async def send(client: httpx.AsyncClient, url: str, params: Any) -> str | None:
    """The problem with the request, if any: a failure is counted, not fatal."""
    try:
        r = await client.get(url, params=params)
        return None if r.status_code == 200 else f"HTTP {r.status_code} {r.text[:200]}"
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__} {exc}"


async def load(base: str, token: str, patients: int, requests: int, concurrency: int,
               path_for: str) -> tuple[list[float], float, int]:
    """Closed loop: ``concurrency`` clients, each sending its next request as soon as the
    last one is answered (the server saturated). (latencies in ms, elapsed s, failed)."""
    since = (datetime.now(UTC) - timedelta(days=30)).isoformat()
    latencies: list[float] = []
    failed = 0
    rng = random.Random(11)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(requests):
        queue.put_nowait(i)

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal failed
        while not queue.empty():
            queue.get_nowait()
            url, params = request_for(path_for, rng, patients, since)
            t0 = time.perf_counter()
            problem = await send(client, url, params)
            latencies.append((time.perf_counter() - t0) * 1000)
            if problem is not None:
                failed += 1
                if failed <= 3:
                    print(f"{path_for}: {problem}", file=sys.stderr)

    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
        start = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    return latencies, elapsed, failed


#: The open-loop mix: what clinicians' dashboards ask for (trend : inbox : patient list).
OPEN_MIX = {"trend": 6, "inbox": 3, "list": 1}
#: Offered load of the open-loop phase. A 1 000-patient service has ~10 clinicians and
#: nurses on shift (1 per 100 patients); each opening a patient's trend every 10 s and
#: the inbox every 30 s while working (live updates come over SSE, not polling) is
#: ≈ 1.3 requests/s. 20/s is ≈ 15× that peak; the closed-loop phase shows saturation.
OPEN_RATE = 20.0


async def open_loop(base: str, token: str, patients: int, rate: float,
                    seconds: float) -> dict[str, tuple[list[float], int]]:
    """Open loop: requests arrive at ``rate`` per second (Poisson, the mix above) whether or
    not earlier ones were answered, as independent clinicians' requests do. Latency counts
    from the scheduled arrival, so a stalled server is not hidden by requests it delayed
    (no coordinated omission). kind → (latencies in ms, failed)."""
    since = (datetime.now(UTC) - timedelta(days=30)).isoformat()
    rng = random.Random(13)
    kinds = [k for k, weight in OPEN_MIX.items() for _ in range(weight)]
    results: dict[str, tuple[list[float], int]] = {k: ([], 0) for k in OPEN_MIX}

    async def one(client: httpx.AsyncClient, kind: str, due: float) -> None:
        url, params = request_for(kind, rng, patients, since)
        problem = await send(client, url, params)
        latencies, failed = results[kind]
        latencies.append((time.perf_counter() - due) * 1000)
        if problem is not None:
            results[kind] = (latencies, failed + 1)
            if failed < 3:
                print(f"{kind}: {problem}", file=sys.stderr)

    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60,
                                 limits=limits) as client:
        start = time.perf_counter()
        at, tasks = 0.0, []
        while (at := at + rng.expovariate(rate)) < seconds:
            await asyncio.sleep(max(0.0, start + at - time.perf_counter()))
            tasks.append(asyncio.create_task(one(client, rng.choice(kinds), start + at)))
        await asyncio.gather(*tasks)
    return results


def seeded(keep: Path | None, db: Path, patients: int, days: int) -> tuple[int, Counter[str]]:
    """Seed ``db``, or copy a database seeded earlier with the same size (and its figures)."""
    meta = keep.with_suffix(".json") if keep else None
    if keep and meta and keep.exists() and meta.exists():
        figures = json.loads(meta.read_text())
        if figures["size"] == [patients, days]:
            shutil.copyfile(keep, db)
            return figures["rows"], Counter(figures["alerts"])
    rows, alerts = seed(f"sqlite:///{db}", patients, days)
    if keep and meta:
        shutil.copyfile(db, keep)
        meta.write_text(json.dumps({"size": [patients, days], "rows": rows, "alerts": alerts}))
    return rows, alerts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent clients")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="API processes (default: one per core, as docs/deploy.md advises)")
    parser.add_argument("--default-gc", action="store_true",
                        help="the API process without the GC tuning `homerpm cloud api` applies")
    parser.add_argument("--rate", type=float, default=OPEN_RATE,
                        help="open-loop phase: requests per second offered (0: skip); the "
                        "default is ≈ 15× the peak of a 1 000-patient service, see below")
    parser.add_argument("--open-seconds", type=float, help="open-loop phase length "
                        "(default 60 s, --quick 15 s)")
    parser.add_argument("--alerting", choices=("separate", "in-api"), default="separate",
                        help="run the alerting loops (escalation, delivery, cloud rules) in "
                        "their own process, `homerpm cloud alerting`, with "
                        "HOMERPM_ALERTING_LOOPS=false for the API: the recommended "
                        "topology (docs/deploy.md); or inside the API process")
    parser.add_argument("--seeded", type=Path, help="reuse this seeded database (a copy is "
                        "served); seed it first if missing. Seeding the full size takes minutes")
    args = parser.parse_args(argv)
    patients, days, requests = (50, 30, 300) if args.quick else (1000, 90, 2000)
    concurrency = args.concurrency
    counts = {"trend": requests, "inbox": requests // 2, "list": max(50, requests // 10)}
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        t0 = time.perf_counter()
        rows, alerts = seeded(args.seeded, Path(tmp) / "bench.db", patients, days)
        seed_s = time.perf_counter() - t0
        port = free_port()
        env = {**os.environ, "HOMERPM_DATABASE_URL": url, "HOMERPM_JWT_SECRET": SECRET,
               "HOMERPM_ALERTING_LOOPS": "true" if args.alerting == "in-api" else "false",
               # as `homerpm cloud api` runs it (cloud_api/gc_tuning.py); --default-gc: off
               "HOMERPM_GC_TUNING": "false" if args.default_gc else "true"}
        repo = Path(__file__).resolve().parents[1]
        alerting = None if args.alerting == "in-api" else subprocess.Popen(
            [sys.executable, "-m", "vitals.cli", "cloud", "alerting"], env=env, cwd=repo)
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "cloud_api.api.app:create_app",
             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
             "--workers", str(args.workers)],
            env=env, cwd=repo)
        try:
            wait_for_port("127.0.0.1", port, 60, server)
            base = f"http://127.0.0.1:{port}"
            # Generous: the alerting loops' first tick over 1 000 patients runs at start-up.
            token = httpx.post(f"{base}/api/v1/auth/token", timeout=300,
                               data={"username": "demo", "password": "demo"}).json()["access_token"]
            for name in counts:  # warm-up, not counted
                asyncio.run(load(base, token, patients, concurrency, concurrency, name))
            load_start = os.getloadavg()[0]
            results = {name: asyncio.run(load(base, token, patients, n, concurrency, name))
                       for name, n in counts.items()}
            open_seconds = args.open_seconds or (15 if args.quick else 60)
            opened = (asyncio.run(open_loop(base, token, patients, args.rate, open_seconds))
                      if args.rate > 0 else {})
        finally:
            for process in (server, alerting):
                if process is None:
                    continue
                process.terminate()
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
    trend, trend_s, _ = results["trend"]
    inbox, _, _ = results["inbox"]
    listing, _, _ = results["list"]
    open_alerts = sum(alerts[s] for s in ("raised", "delivered", "acknowledged"))
    print(f"API: uvicorn, {args.workers} worker process(es), GC "
          + ("default" if args.default_gc else "tuned") + "; alerting loops "
          + ("inside the API process" if args.alerting == "in-api"
             else "in their own process (homerpm cloud alerting)"))
    print(f"seeded {patients} patients × {days} days = {rows} readings and "
          f"{sum(alerts.values())} alerts ({dict(alerts)}) in {seed_s:.1f} s")
    print(f"{'endpoint':<34}{'n':>6}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'failed':>8}")
    for label, name in (("30-day BP trend", "trend"), ("alert inbox (open, 200/page)", "inbox"),
                        ("patient list", "list")):
        lat, _, failed = results[name]
        print(f"{label:<34}{len(lat):>6}{statistics.median(lat):>9.1f}{percentile(lat, 0.99):>9.1f}"
              f"{max(lat):>9.1f}{failed:>8}")
    if opened:
        print(f"open loop: {args.rate:g} requests/s offered for {open_seconds:g} s "
              f"(trend : inbox : list = {OPEN_MIX['trend']} : {OPEN_MIX['inbox']} : "
              f"{OPEN_MIX['list']}), latency from the scheduled arrival")
        for name, (lat, failed) in opened.items():
            if lat:
                print(f"{'  ' + name:<34}{len(lat):>6}{statistics.median(lat):>9.1f}"
                      f"{percentile(lat, 0.99):>9.1f}{max(lat):>9.1f}{failed:>8}")
    load1 = os.getloadavg()[0]
    print(f"load average (1 min) before seeding {load_before:.1f}, at the first request "
          f"{load_start:.1f}, at the end {load1:.1f}, on {os.cpu_count()} CPUs (shared machine)")
    figures = {
        "patients": patients, "days": days, "readings": rows, "alerts": sum(alerts.values()),
        "open_alerts": open_alerts, "seed_s": round(seed_s, 1),
        "concurrency": concurrency, "workers": args.workers, "gc_tuned": not args.default_gc,
        "alerting_in_api": args.alerting == "in-api", "requests": len(trend),
        "p50_ms": round(statistics.median(trend), 1), "p99_ms": round(percentile(trend, 0.99), 1),
        "requests_per_s": round(len(trend) / trend_s, 1),
        "inbox_p50_ms": round(statistics.median(inbox), 1),
        "inbox_p99_ms": round(percentile(inbox, 0.99), 1),
        "list_p50_ms": round(statistics.median(listing), 1),
        "list_p99_ms": round(percentile(listing, 0.99), 1), "target_p99_ms": 100,
        "failed": sum(r[2] for r in results.values()),
        "load_avg_1m_start": round(load_start, 1), "load_avg_1m": round(load1, 1),
    }
    if opened:
        figures["open_rate_per_s"] = args.rate
        for name, (lat, _failed) in opened.items():
            figures[f"open_{name}_requests"] = len(lat)
            if lat:
                figures[f"open_{name}_p50_ms"] = round(statistics.median(lat), 1)
                figures[f"open_{name}_p99_ms"] = round(percentile(lat, 0.99), 1)
        figures["open_failed"] = sum(failed for _, failed in opened.values())
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
