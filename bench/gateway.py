"""Gateway benchmark: a home's worth of devices on a Pi budget, backlog drain, alert latency.

1. **Live**: the real gateway process (``python -m gateway``) with a simulated scenario
   cuff (a reading every 10 s), a GATT glucose meter (a record every 15 s, downloaded over
   the in-memory BLE transport by the real session code) and a 130 Hz Polar-style ECG
   strap streaming 30-s strips (the analyser runs on each), rules on, a local mosquitto
   and an acking fake cloud; 10 minutes (``--quick``: 45 s). Reported: peak RSS (VmHWM)
   and CPU % of one core over the run after the first 10 s (start-up imports excluded;
   the start-up figure is reported separately).
2. **Drain**: a 100 000-reading backlog (``--quick``: 20 000) through the real gateway
   into the local broker, acked and deleted (``bench.gateway_drain.drain``; the drain
   rate limit is lifted for it, ``max_messages_per_s = 0``).
3. **Alert latency**: decoded reading → urgent alert at a local sink, in-process through
   the real pipeline (edge rules, sink; the outbox transaction commits concurrently),
   p50/p99 over 500 urgent readings; ``commit_p*_ms``: reading → reading and alert
   durable (fsync'd), i.e. when ``submit`` returns.

``python -m bench.gateway [--quick]``; the last line is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiomqtt

from bench.gateway_drain import GW, REPO, fake_cloud, vm_hwm_mb
from bench.gateway_drain import drain as drain_backlog
from firmware_sim.services import Mosquitto, spawn
from gateway.outbox import AsyncOutbox, inspect

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


async def live(workdir: Path, seconds: float) -> dict[str, float]:
    broker = Mosquitto(workdir / "mosquitto").start()
    try:
        config = workdir / "live.toml"
        config.write_text(f"""
gateway_id = "{GW}"
[mqtt]
url = "mqtt://127.0.0.1:{broker.port}"
[outbox]
path = "{workdir / "live.db"}"
[status_page]
host = "127.0.0.1"
port = 0
[[devices]]
id = "cuff"
kind = "blood_pressure"
simulated = true
patient = "bench-1"
interval_s = 10
[[devices]]
id = "meter"
kind = "glucose"
simulated = true
patient = "bench-1"
interval_s = 15
[[devices]]
id = "strap"
kind = "ecg"
simulated = true
patient = "bench-1"
""")
        ready = asyncio.Event()
        seen: set[str] = set()
        cloud = asyncio.create_task(fake_cloud(broker.port, ready, seen))
        await ready.wait()
        gw = spawn("gateway-live", [sys.executable, "-m", "gateway", "--config", str(config)],
                   workdir, env={"PYTHONPATH": str(REPO)})
        try:
            await asyncio.sleep(10)
            startup_cpu = cpu_s(gw.pid)
            startup_rss = vm_hwm_mb(gw.pid)
            t0 = time.monotonic()
            while time.monotonic() - t0 < seconds - 10:
                await asyncio.sleep(1)
                if gw.proc.poll() is not None:
                    raise RuntimeError(f"gateway exited:\n{gw.log()[-3000:]}")
            cpu = (cpu_s(gw.pid) - startup_cpu) / (time.monotonic() - t0) * 100
            hwm = vm_hwm_mb(gw.pid)
        finally:
            gw.stop()
            cloud.cancel()
            with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
                await cloud
        stats, _, _ = inspect(workdir / "live.db")
        with contextlib.closing(__import__("sqlite3").connect(workdir / "live.db")) as db:
            kinds = dict(db.execute("SELECT kind, COUNT(*) FROM outbox GROUP BY kind").fetchall())
        return {"live_s": seconds, "rss_mb": round(hwm, 1),
                "startup_rss_mb": round(startup_rss, 1),
                "startup_cpu_s": round(startup_cpu, 2), "cpu_pct": round(cpu, 2),
                "live_readings_acked": len(seen), "live_outbox_rows": stats.depth,
                "live_alert_rows": int(kinds.get("alert", 0))}
    finally:
        broker.stop()


async def alert_latency(workdir: Path, n: int) -> dict[str, float]:
    from edge_rules.config import parse_rules_config
    from gateway.pipeline import Pipeline
    from gateway.rules import EdgeRules
    from vitals.alerts import Alert
    from vitals.ids import new_msg_id
    from vitals.readings import DeviceRef, Glucose
    from vitals.units import GlucoseUnit

    arrived: dict[str, float] = {}

    class Sink:
        async def deliver(self, alert: Alert) -> None:
            arrived[alert.patient] = time.perf_counter()

    box = AsyncOutbox(workdir / "latency.db")
    pipeline = Pipeline(box, EdgeRules(parse_rules_config({}), preload_ecg=False), [Sink()])
    meter = DeviceRef(make="HomeRPM", model="SimMeter", serial="bench")
    latencies: list[float] = []
    commits: list[float] = []  # reading → its transaction committed (fsync'd)
    from datetime import UTC, datetime

    try:
        for i in range(n):
            now = datetime.now(UTC)
            reading = Glucose(msg_id=new_msg_id(now), patient=f"p-{i}", device=meter,
                              measured_at=now, received_at=now, simulated=True, mg_dl=45,
                              value_received=45, unit_received=GlucoseUnit.MG_DL)
            t0 = time.perf_counter()
            await pipeline.submit(reading)
            commits.append((time.perf_counter() - t0) * 1000)
            latencies.append((arrived[f"p-{i}"] - t0) * 1000)
    finally:
        box.close()
    latencies.sort()
    commits.sort()
    return {"alerts": n, "alert_p50_ms": round(statistics.median(latencies), 2),
            "alert_p99_ms": round(latencies[int(0.99 * (n - 1))], 2),
            "commit_p50_ms": round(statistics.median(commits), 2),
            "commit_p99_ms": round(commits[int(0.99 * (n - 1))], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="45 s live, 20 000-row backlog")
    args = parser.parse_args()
    seconds = 45.0 if args.quick else 600.0
    n = 20_000 if args.quick else 100_000
    figures: dict[str, float] = {}
    os.environ["HOMERPM_GATEWAY_STATUS_PAGE__ENABLED"] = "false"  # drain run: no page
    os.environ["HOMERPM_GATEWAY_OUTBOX__MAX_MESSAGES_PER_S"] = "0"
    with tempfile.TemporaryDirectory(prefix="bench-gw-") as tmp:
        figures |= asyncio.run(alert_latency(Path(tmp), 500))
        figures |= asyncio.run(drain_backlog(Path(tmp), n))
        del os.environ["HOMERPM_GATEWAY_STATUS_PAGE__ENABLED"]
        del os.environ["HOMERPM_GATEWAY_OUTBOX__MAX_MESSAGES_PER_S"]
        figures |= asyncio.run(live(Path(tmp), seconds))
    print(f"{'figure':<28} value")
    for key, value in figures.items():
        print(f"{key:<28} {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
