"""The whole gateway process (``python -m gateway``) against a real mosquitto.

A simulated cuff produces real 0x2A35 bytes; a fake cloud records and acks. Covers the
clean SIGTERM shutdown (retained offline status) and ``kill -9`` mid-stream: every
captured msg_id reaches the cloud at least once and the outbox empties.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import sys
from pathlib import Path

import pytest

from firmware_sim.services import ManagedProcess, Mosquitto, spawn
from tests.gateway.fake_cloud import FakeCloud, running
from tests.gateway.gw_factories import until
from vitals.status import GatewayState

pytestmark = [pytest.mark.services, pytest.mark.slow]
GW = "gw-proc"
REPO = Path(__file__).resolve().parents[2]


def write_config(tmp_path: Path, port: int, *, interval_s: float, count: int,
                 rate: float = 0) -> Path:
    path = tmp_path / "gateway.toml"
    path.write_text(f"""
gateway_id = "{GW}"
status_interval_s = 0.5

[mqtt]
url = "mqtt://127.0.0.1:{port}"
will_delay_s = 0
reconnect_min_s = 0.1
reconnect_max_s = 0.5

# These tests are about delivery; rules would add alert messages at random (the
# hypertensive scenario sometimes reads in the severe range).
[rules]
enabled = false

[outbox]
path = "{tmp_path / "outbox.db"}"
resend_after_s = 3
max_messages_per_s = {rate}

[[devices]]
kind = "blood_pressure"
simulated = true
patient = "pseudo-42"
interval_s = {interval_s}
count = {count}
scenario = "hypertensive"
""")
    return path


def start(tmp_path: Path, config: Path, name: str) -> ManagedProcess:
    return spawn(name, [sys.executable, "-m", "gateway", "--config", str(config)],
                 tmp_path / "logs", env={"PYTHONPATH": str(REPO)})


def outbox_ids(tmp_path: Path) -> set[str]:
    with sqlite3.connect(tmp_path / "outbox.db") as db:
        return {r[0] for r in db.execute("SELECT msg_id FROM outbox")}


async def test_simulated_cuff_end_to_end_and_clean_shutdown(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    cloud = FakeCloud(mosquitto.port)
    config = write_config(tmp_path, mosquitto.port, interval_s=0.02, count=40)
    async with running(cloud):
        proc = start(tmp_path, config, "gateway")
        try:
            await until(lambda: len(cloud.distinct()) == 40, within=30)
            await until(lambda: not outbox_ids(tmp_path), within=20)
            proc.proc.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(proc.proc.wait, 30) == 0, proc.log()
        finally:
            proc.kill()
        await until(lambda: bool(cloud.status)
                    and cloud.status[-1].status.state is GatewayState.OFFLINE, within=15)
    last = cloud.status[-1].status
    assert last.gateway == GW and last.simulated
    assert {s.status.boot_id for s in cloud.status} == {last.boot_id}
    assert cloud.kinds and set(cloud.kinds) == {"readings"}


async def test_kill_9_mid_stream_then_restart_delivers_every_msg_id(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    cloud = FakeCloud(mosquitto.port)
    # ~300 readings/s captured, drained at most 2 messages/s: a backlog builds up.
    config = write_config(tmp_path, mosquitto.port, interval_s=0.003, count=600, rate=2)
    captured: set[str] = set()
    async with running(cloud):
        for round_ in range(2):
            proc = start(tmp_path, config, f"gateway-{round_}")
            target = 100 * (round_ + 1)
            try:
                await until(lambda: len(cloud.distinct()) >= target, within=30)  # noqa: B023
            finally:
                proc.kill()  # SIGKILL: no cleanup, possibly mid-transaction
            # Everything captured so far is either still in the outbox or already acked.
            captured |= outbox_ids(tmp_path) | cloud.distinct()
            assert outbox_ids(tmp_path), "the kill should leave a backlog"
        config = write_config(tmp_path, mosquitto.port, interval_s=0.01, count=10)
        proc = start(tmp_path, config, "gateway-final")
        try:
            await until(lambda: captured <= cloud.distinct(), within=40)
            await until(lambda: not outbox_ids(tmp_path), within=20)
            proc.proc.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(proc.proc.wait, 30) == 0, proc.log()
        finally:
            proc.kill()
    assert captured <= cloud.distinct()
    # the Last Will announced the killed boots as offline
    offline = [s.status for s in cloud.status if s.status.state is GatewayState.OFFLINE]
    assert len({s.boot_id for s in offline}) >= 2
