"""The fleet generator: deterministic readings, and a real run through mosquitto.

The cloud side here is a real ingest worker over the in-memory sink: the point is the
fleet's own path (real outboxes, one MQTT connection per gateway, e2e acks).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from cloud_api.db.directory import GatewayAssignment
from cloud_api.ingest.config import BrokerAddress, IngestConfig
from cloud_api.ingest.sinks import MemorySink
from cloud_api.ingest.worker import IngestWorker
from firmware_sim.fleet import (
    FleetSpec,
    expected_ids,
    gateway_id,
    patient_id,
    readings_for,
    run_fleet,
)
from firmware_sim.services import Mosquitto


def test_same_seed_same_readings_other_seed_other_ids() -> None:
    spec = FleetSpec(gateways=3, readings_per_gateway=50, host="h", port=1, seed=5)
    again = [r.msg_id for r in readings_for(spec, 1)]
    assert [r.msg_id for r in readings_for(spec, 1)] == again
    assert len(expected_ids(spec)) == 150  # distinct across gateways
    other = FleetSpec(gateways=3, readings_per_gateway=50, host="h", port=1, seed=6)
    assert expected_ids(other).isdisjoint(expected_ids(spec))
    shifted = FleetSpec(gateways=3, readings_per_gateway=50, host="h", port=1, seed=5, first=3)
    assert expected_ids(shifted).isdisjoint(expected_ids(spec))  # a second process's range
    assert all(r.simulated and r.patient == patient_id("fleet", 1)
               for r in readings_for(spec, 1))


@pytest.mark.services
async def test_fleet_runs_until_the_cloud_acked_everything(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    spec = FleetSpec(gateways=3, readings_per_gateway=120, host=mosquitto.host,
                     port=mosquitto.port, batch_max_items=25, replay_fraction=0.25)
    sink = MemorySink([GatewayAssignment(gateway_id("fleet", i), 1,
                                         frozenset({patient_id("fleet", i)})) for i in range(3)])
    worker = IngestWorker(IngestConfig("ingest-fleet", BrokerAddress(mosquitto.host,
                                                                     mosquitto.port)), sink, sink)
    task = asyncio.create_task(worker.run())
    try:
        await asyncio.wait_for(worker.connected.wait(), 10)
        result = await run_fleet(spec, tmp_path, timeout_s=60)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert set(sink.records) == expected_ids(spec)
    assert result.captured == 3 * 120 + 3 * 30 and result.replayed == 90
    assert len(result.latencies_ms) == result.captured  # every capture's ack was seen
    assert sum(t.replay for t in result.timings) == 90
    assert all(t.captured <= t.put <= t.leased <= t.published <= t.puback <= t.acked
               for t in result.timings)
    assert not sink.dead_letters
