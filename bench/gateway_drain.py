"""Gateway outbox + drain benchmark: how fast a backlog leaves the Pi, and at what RSS.

1. Outbox write cost on this disk: single-reading commits (synchronous=FULL, one fsync
   each) and group commits (``put_many``, 1000 readings per transaction).
2. Drain: a backlog of N readings in the outbox, a real mosquitto, a fake cloud that acks
   every batch, and the real gateway process started as its systemd unit starts it
   (:func:`as_unit`; no devices, default drain settings). Timed from its start until the
   outbox is empty — i.e. every reading was published, PUBACKed, acked end to end and
   deleted. RSS is the gateway process's VmHWM.

``python -m bench.gateway_drain [--quick] [--readings N]``; last line is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiomqtt

from firmware_sim.services import Mosquitto, spawn
from firmware_sim.unit import Unit
from gateway.outbox import Outbox, inspect
from vitals import topics
from vitals.ids import new_msg_id
from vitals.readings import BloodPressure, DeviceRef
from vitals.wire import Ack, encode

GW = "gw-bench"
REPO = Path(__file__).resolve().parents[1]
DEVICE = DeviceRef(make="HomeRPM", model="SimCuff", serial="bench")
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def reading(i: int) -> BloodPressure:
    at = T0 + timedelta(seconds=i)
    return BloodPressure(msg_id=new_msg_id(at), patient="bench", device=DEVICE, measured_at=at,
                         received_at=at, simulated=True, systolic=120 + i % 30, diastolic=80,
                         pulse=70, seq=i)


def outbox_write_rates(
    workdir: Path, n_single: int = 300, n_group: int = 20_000
) -> dict[str, float]:
    box = Outbox(workdir / "write.db")
    items = [reading(i) for i in range(n_single + n_group)]
    t = time.perf_counter()
    for r in items[:n_single]:
        box.put(r)
    single = n_single / (time.perf_counter() - t)
    t = time.perf_counter()
    for k in range(n_single, n_single + n_group, 1000):
        box.put_many([(r, ()) for r in items[k:k + 1000]])
    group = n_group / (time.perf_counter() - t)
    box.close()
    return {"single_commits_per_s": round(single), "group_commit_readings_per_s": round(group)}


async def fake_cloud(port: int, ready: asyncio.Event, seen: set[str] | None = None) -> None:
    """Ack every batch by msg_id (json.loads only: this measures the gateway, not pydantic);
    ``seen`` collects the distinct msg_ids received."""
    async with aiomqtt.Client("127.0.0.1", port, identifier="bench-cloud",
                              protocol=aiomqtt.ProtocolVersion.V5) as client:
        client.pending_calls_threshold = 10_000
        await client.subscribe(topics.subscription(topics.TopicKind.READINGS, GW), qos=1)
        ready.set()
        ack_topic = topics.topic(GW, topics.TopicKind.ACK)
        async for msg in client.messages:
            items = json.loads(msg.payload)["items"]
            ids = tuple(item["msg_id"] for item in items)
            if seen is not None:
                seen.update(ids)
            await client.publish(ack_topic, encode(Ack(msg_ids=ids)), qos=1)


UNIT = REPO / "deploy" / "systemd" / "homerpm-gateway.service"


async def as_unit(config: Path, workdir: Path, env: dict[str, str] | None = None
                  ) -> tuple[list[str], dict[str, str]]:
    """The gateway's command and environment as its systemd unit starts it on a Pi (the
    unit's ``Environment=``), after running the unit's ``ExecStartPre`` (``homerpm gateway
    precompile``: the bytecode cache, cold, as after an install) with the same environment.
    """
    unit = Unit.read(UNIT).localized({"/etc/homerpm/gateway.toml": str(config),
                                      "/var/cache/homerpm": str(workdir / "cache")})
    env = unit.service_environment({**(env or {}), "PYTHONPATH": str(REPO)})
    await unit.run_pre(env)
    return Unit.argv(unit.exec_start), env


def vm_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def drain(workdir: Path, n: int) -> dict[str, float]:
    broker = Mosquitto(workdir / "mosquitto").start()
    try:
        db = workdir / "outbox.db"
        box = Outbox(db)
        for k in range(0, n, 1000):
            box.put_many([(reading(i), ()) for i in range(k, min(n, k + 1000))])
        box.close()
        config = workdir / "gateway.toml"
        config.write_text(f'gateway_id = "{GW}"\n[mqtt]\nurl = "mqtt://127.0.0.1:{broker.port}"\n'
                          f'[outbox]\npath = "{db}"\n')
        ready = asyncio.Event()
        seen: set[str] = set()
        cloud = asyncio.create_task(fake_cloud(broker.port, ready, seen))
        await ready.wait()
        argv, env = await as_unit(config, workdir)
        start = time.perf_counter()
        gw = spawn("gateway", argv, workdir, env=env)
        hwm = 0.0
        try:
            while True:
                await asyncio.sleep(0.25)
                if gw.proc.poll() is not None:
                    raise RuntimeError(f"gateway exited:\n{gw.log()[-2000:]}")
                hwm = max(hwm, vm_hwm_mb(gw.pid))
                if inspect(db)[0].depth == 0:
                    break
            elapsed = time.perf_counter() - start
        finally:
            gw.stop()
            cloud.cancel()
            with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
                await cloud
        return {"readings": n, "lost": n - len(seen), "drain_s": round(elapsed, 2),
                "drain_readings_per_s": round(n / elapsed), "gateway_rss_mb": round(hwm, 1)}
    finally:
        broker.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 000 readings (≤ 1 min)")
    parser.add_argument("--readings", type=int, default=None)
    args = parser.parse_args()
    n = args.readings or (20_000 if args.quick else 100_000)
    with tempfile.TemporaryDirectory(prefix="bench-gw-") as tmp:
        figures = outbox_write_rates(Path(tmp), n_group=5_000 if args.quick else 20_000)
        figures |= asyncio.run(drain(Path(tmp), n))
    print(f"{'figure':<28} value")
    for key, value in figures.items():
        print(f"{key:<28} {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
