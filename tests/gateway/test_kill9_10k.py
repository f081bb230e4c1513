"""``kill -9`` the gateway five times during a stream of 10 000 readings.

A fast simulated cuff (``simulator = "records"``: record k always has the same values and
msg_id; its position survives a crash like a meter's record cursor) feeds the real
gateway process; the real ingest worker stores into a seeded SQLite cloud store and acks.
The gateway is SIGKILLed five times mid-stream (possibly mid-transaction, mid-publish).
The cloud store must end with exactly the 10 000 expected readings, no more, no less, and
the outbox must drain.
"""

from __future__ import annotations

import asyncio
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edge_rules.ids import derived_ulid
from firmware_sim.services import Mosquitto
from tests.gateway.gw_factories import until
from tests.gateway.gw_process import (
    PATIENT,
    cloud_readings,
    gateway_toml,
    outbox_depth,
    seed_cloud,
    start_gateway,
    start_ingest,
)

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.timeout(900)]

N = 10_000
SEED = 7


def expected_ids() -> set[str]:
    base = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
    return {derived_ulid(base + timedelta(seconds=k * 0.0005), f"cuff-1/{SEED}/{k}")
            for k in range(N)}


async def test_kill_9_five_times_during_10k_readings(tmp_path: Path, mosquitto: Mosquitto) -> None:
    db_url = seed_cloud(tmp_path)
    # resend_after_s = 60: batches the broker PUBACKed but that never reached the store
    # (seen here under load: ~900 readings never delivered to the ingest worker's shared
    # subscription) are repaired by the resend timer within the test, not after the
    # default 10 minutes. The unacked cap keeps a slow ingest from being flooded.
    config = gateway_toml(tmp_path, mosquitto.port,
                          extra_outbox="max_unacked = 3000\nresend_after_s = 60",
                          devices=f"""
[[devices]]
id = "cuff-1"
kind = "blood_pressure"
simulated = true
simulator = "records"
patient = "{PATIENT}"
interval_s = 0.0005
count = {N}
seed = {SEED}
""")
    ingest = start_ingest(tmp_path, mosquitto, db_url)
    kills = 0
    try:
        for kill in range(5):
            gateway = start_gateway(tmp_path, config, f"gateway-{kill}")
            before = len(cloud_readings(tmp_path))
            try:
                # Let it capture and forward a slice, then pull the plug mid-stream.
                await until(lambda: len(cloud_readings(tmp_path)) >= before + 300,  # noqa: B023
                            within=120)
            finally:
                gateway.kill()
                kills += 1
            assert ingest.proc.poll() is None, ingest.log()
            assert len(cloud_readings(tmp_path)) < N, "stream finished before the kills"
        gateway = start_gateway(tmp_path, config, "gateway-final")
        try:
            await until(lambda: len(cloud_readings(tmp_path)) >= N, within=600)
            await until(lambda: outbox_depth(tmp_path) == 0, within=120)
            gateway.proc.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(gateway.proc.wait, 20) == 0, gateway.log()
        finally:
            gateway.kill()
    finally:
        ingest.stop()
    stored = cloud_readings(tmp_path)
    assert kills == 5
    assert len(stored) == N
    assert set(stored) == expected_ids()
