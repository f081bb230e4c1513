"""Gateway benchmark: a home's worth of devices on a Pi budget, backlog drain, alert latency.

1. **Live**: the real gateway process, started as the systemd unit starts it
   (``homerpm gateway run``, here ``python -m vitals.cli gateway run``), with a cuff (a reading
   every 10 s), a glucose meter (a record every 15 s) and a 130 Hz Polar-style ECG strap
   streaming 30-s strips (the analyser runs on each), rules on, a local mosquitto and an
   acking fake cloud; 10 minutes (``--quick``: 45 s). ``--live ble`` (default): each
   device is a separate ``sim device --bluez`` process on the BlueZoo BlueZ mock and the
   gateway uses bleak, as on a Pi (no ``firmware_sim`` in the gateway's process);
   ``--live inprocess``: the simulators run inside the gateway (``simulated = true``).
   Reported: VmHWM (peak) and VmRSS (at the end), CPU % of one core over the run after
   the first 10 s (start-up imports excluded; the start-up figure is reported separately).
   The gateway starts as its systemd unit (``deploy/systemd/homerpm-gateway.service``)
   starts it: with the unit's ``Environment=`` settings, after its ``ExecStartPre``
   (``homerpm gateway precompile``, the bytecode cache; run cold, as after an install).
2. **Drain**: a 100 000-reading backlog (``--quick``: 20 000) through the real gateway
   into the local broker, acked and deleted (``bench.gateway_drain.drain``; the drain
   rate limit is lifted for it, ``max_messages_per_s = 0``).
3. **Alert latency**: decoded reading → urgent alert at a local sink, in-process through
   the real pipeline (edge rules with a one-patient state, sink; the outbox transaction
   commits concurrently), p50/p99 over 500 urgent readings; ``commit_p*_ms``: reading →
   reading and alert durable (fsync'd), i.e. when ``submit`` returns.

``python -m bench.gateway [--quick]``; the last line is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import aiomqtt

from bench.gateway_drain import GW, REPO, as_unit, fake_cloud, vm_hwm_mb
from bench.gateway_drain import drain as drain_backlog
from firmware_sim.services import ManagedProcess, Mosquitto, ServiceError, spawn
from gateway.outbox import AsyncOutbox, inspect

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


DEVICES_INPROCESS = """
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
"""

#: (``sim device`` kind, adapter, extra argv, gateway device kind)
BLE_DEVICES: tuple[tuple[str, int, list[str], str], ...] = (
    ("bp", 1, ["--interval", "10"], "blood_pressure"),
    ("glucose", 2, ["--interval", "15"], "glucose"),
    ("ecg", 3, [], "ecg"),
)


def vm_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@contextlib.contextmanager
def ble_devices(workdir: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """The devices as a Pi sees them: each simulator in its own process, exported as a
    BlueZ GATT peripheral on the BlueZoo mock (a private D-Bus, no radio); the gateway
    reaches them through bleak exactly as it reaches real ones. Yields the ``[[devices]]``
    TOML and the environment for the gateway."""
    from firmware_sim.bluez.mock import BlueZooMock

    mock = BlueZooMock(workdir / "bluezoo", adapters=len(BLE_DEVICES) + 1).start()
    sims: list[ManagedProcess] = []
    try:
        toml = '[bluetooth]\nadapter = "hci0"\n'
        for kind, hci, extra, gw_kind in BLE_DEVICES:
            sim = spawn(f"sim-{kind}", [sys.executable, "-m", "firmware_sim.device_cli", kind,
                                        "--bluez", "--adapter", f"hci{hci}", *extra],
                        workdir, env={**mock.env(), "PYTHONPATH": str(REPO)})
            sims.append(sim)
            sim.wait_for_log("Ctrl-C to stop", 60)
            toml += (f'[[devices]]\nid = "{kind}"\nkind = "{gw_kind}"\n'
                     f'address = "{mock.addresses[hci]}"\npatient = "bench-1"\n')
        yield toml, mock.env()
    finally:
        for sim in sims:
            sim.stop()
        mock.stop()


async def live(workdir: Path, seconds: float, ble: bool) -> dict[str, float]:
    """Run the gateway with a home's devices; figures are prefixed ``ble_`` when the
    devices were separate BlueZ peripherals (``inproc_`` when simulated in-process)."""
    prefix = "ble_" if ble else "inproc_"
    broker = Mosquitto(workdir / "mosquitto").start()
    db = workdir / f"{prefix}live.db"
    try:
        with contextlib.ExitStack() as stack:
            devices, env = (stack.enter_context(ble_devices(workdir)) if ble
                            else (DEVICES_INPROCESS, {}))
            config = workdir / f"{prefix}live.toml"
            config.write_text(f"""
gateway_id = "{GW}"
[mqtt]
url = "mqtt://127.0.0.1:{broker.port}"
[outbox]
path = "{db}"
[status_page]
host = "127.0.0.1"
port = 0
{devices}""")
            ready = asyncio.Event()
            seen: set[str] = set()
            cloud = asyncio.create_task(fake_cloud(broker.port, ready, seen))
            await ready.wait()
            argv, env = await as_unit(config, workdir, env)  # ``homerpm gateway run``
            gw = spawn(f"gateway-{prefix}live", argv, workdir, env=env)
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
                hwm, rss = vm_hwm_mb(gw.pid), vm_rss_mb(gw.pid)
            finally:
                gw.stop()
                cloud.cancel()
                with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
                    await cloud
        stats, _, _ = inspect(db)
        with contextlib.closing(sqlite3.connect(db)) as conn:
            kinds = dict(conn.execute(
                "SELECT kind, COUNT(*) FROM outbox GROUP BY kind").fetchall())
        return {f"{prefix}live_s": seconds, f"{prefix}vmhwm_mb": round(hwm, 1),
                f"{prefix}vmrss_mb": round(rss, 1),
                f"{prefix}startup_rss_mb": round(startup_rss, 1),
                f"{prefix}startup_cpu_s": round(startup_cpu, 2), f"{prefix}cpu_pct": round(cpu, 2),
                f"{prefix}readings_acked": len(seen), f"{prefix}outbox_rows": stats.depth,
                f"{prefix}alert_rows": int(kinds.get("alert", 0))}
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
    config = parse_rules_config({})
    meter = DeviceRef(make="HomeRPM", model="SimMeter", serial="bench")
    latencies: list[float] = []
    commits: list[float] = []  # reading → its transaction committed (fsync'd)
    from datetime import UTC, datetime

    try:
        for i in range(n):
            # A home's rule state (one patient, no open alert: an open one would not
            # re-fire). Reusing one engine for n patients would time a state of n
            # patients: evaluate and snapshot grow with it (~35 ms at 500).
            pipeline = Pipeline(box, EdgeRules(config, preload_ecg=False), [Sink()])
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
    parser.add_argument("--live", choices=("ble", "inprocess", "both"), default="ble",
                        help="devices as separate BlueZ peripherals (as on a Pi; needs "
                             "bluezoo + dbus-daemon), simulated inside the gateway, or both")
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
        for ble in {"ble": [True], "inprocess": [False], "both": [True, False]}[args.live]:
            try:
                figures |= asyncio.run(live(Path(tmp), seconds, ble))
            except ServiceError as exc:  # no bluezoo / dbus-daemon here
                sys.exit(f"{exc}\n(--live inprocess runs without the BlueZ mock)")
        figures["loadavg_1m"] = round(os.getloadavg()[0], 2)
    print(f"{'figure':<28} value")
    for key, value in figures.items():
        print(f"{key:<28} {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
