"""Scale-out and chaos, end to end on real services: the fleet generator (real gateway outboxes,
one MQTT connection per gateway) → mosquitto → ingest workers → InfluxDB 1.6.7 + the archive.

Counts are exact: the fleet's msg_ids are deterministic (firmware_sim.fleet.expected_ids).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiomqtt
import pytest
from sqlalchemy import Engine

from cloud_api.db.engine import make_engine
from cloud_api.ingest.worker import retire
from firmware_sim.fleet import expected_ids, gateway_id, provision, run_fleet
from firmware_sim.services import Influxd, Mosquitto
from tests.cloud_api.ingest.harness import (
    archived_ids,
    dead_letter_reasons,
    fresh_influx,
    running,
    series_worker,
    session_present,
    spec,
    start_worker_process,
    worker_config,
)
from vitals.topics import TopicKind, topic

pytestmark = [pytest.mark.services]


async def test_three_workers_share_the_stream_and_a_retired_one_strands_nothing(
    engine: Engine, db_url: str, mosquitto: Mosquitto, influxd: Influxd, tmp_path: Path
) -> None:
    first = spec(mosquitto, gateways=6, readings=100, batch_max_items=10)
    second = spec(mosquitto, gateways=6, readings=100, batch_max_items=10, first=6)
    provision(db_url, first)
    provision(db_url, second)
    series = await fresh_influx(influxd)
    try:
        workers = [series_worker(mosquitto, f"ingest-{i}", engine, series) for i in range(3)]
        async with running(*workers):
            await run_fleet(first, tmp_path / "fleet1", timeout_s=60)
        shares = [w.stats.messages for w in workers]
        total = sum(shares)
        # mosquitto hands out a shared group round-robin: each member gets about a third.
        assert all(total / 6 < s < total / 2 for s in shares), shares

        await retire(worker_config(mosquitto, "ingest-2"))
        assert not session_present(mosquitto, "ingest-2")
        survivors = workers[:2]
        async with running(*survivors):
            await run_fleet(second, tmp_path / "fleet2", timeout_s=60)
        assert workers[2].stats.messages == shares[2]  # it got nothing more while gone
        expected = expected_ids(first) | expected_ids(second)
        assert sorted(archived_ids(engine)) == sorted(expected)
        assert await series.count("bp", {}) == len(expected)
    finally:
        await series.aclose()


async def test_replayed_duplicates_and_a_poison_message_change_nothing(
    engine: Engine, mosquitto: Mosquitto, influxd: Influxd, tmp_path: Path
) -> None:
    fleet = spec(mosquitto, gateways=4, readings=150, replay_fraction=0.1, batch_max_items=25)
    provision(str(engine.url.render_as_string(hide_password=False)), fleet)
    series = await fresh_influx(influxd)
    try:
        worker = series_worker(mosquitto, "ingest-0", engine, series)
        async with running(worker):
            run = asyncio.create_task(run_fleet(fleet, tmp_path / "fleet", timeout_s=60))
            async with aiomqtt.Client(mosquitto.host, mosquitto.port) as raw:
                await raw.publish(topic(gateway_id("fleet", 1), TopicKind.READINGS),
                                  b"\x00not json{", qos=1)
            result = await run
        assert result.replayed == 4 * 15  # 10 % re-sent through the real outbox path
        expected = expected_ids(fleet)
        assert sorted(archived_ids(engine)) == sorted(expected)
        assert await series.count("bp", {}) == len(expected)
        assert worker.stats.duplicates >= result.replayed
        [reason] = dead_letter_reasons(engine)
        assert reason.startswith("malformed")
    finally:
        await series.aclose()


@pytest.mark.slow
async def test_worker_killed_mid_stream_and_restarted_loses_and_doubles_nothing(
    engine: Engine, db_url: str, mosquitto: Mosquitto, influxd: Influxd, tmp_path: Path
) -> None:
    fleet = spec(mosquitto, gateways=5, readings=400, rate=800.0, batch_max_items=20)
    provision(db_url, fleet)
    series = await fresh_influx(influxd)
    tsdb = ["--tsdb", "influx", "--influx-url", influxd.url, "--influx-db",
            series.config.database]
    worker = start_worker_process(mosquitto, db_url, tmp_path, "ingest-0", 1, tsdb)
    try:
        run = asyncio.create_task(run_fleet(fleet, tmp_path / "fleet", timeout_s=90))
        while len(archived_ids(engine)) < 300:  # noqa: ASYNC110 - polls the database
            await asyncio.sleep(0.05)
        worker.kill()  # SIGKILL mid-stream: its unacked messages stay in its session
        at_kill = len(archived_ids(engine))
        await asyncio.sleep(0.5)
        worker = start_worker_process(mosquitto, db_url, tmp_path, "ingest-0", 2, tsdb)
        await run
        assert 0 < at_kill < 2000
        expected = expected_ids(fleet)
        assert sorted(archived_ids(engine)) == sorted(expected)
        assert await series.count("bp", {}) == len(expected)
    finally:
        worker.stop()
        await series.aclose()


@pytest.mark.slow
async def test_influxdb_down_for_30_s_loses_nothing_and_writes_resume(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    # SQLite archive only: this test is about the time-series store (and takes 30 s).
    influx = Influxd(tmp_path / "influxd-own").start()  # ours alone: we stop it
    db_url = f"sqlite:///{tmp_path}/cloud.db"
    fleet = spec(mosquitto, gateways=4, readings=300, rate=40.0, batch_max_items=10)
    provision(db_url, fleet)
    engine = make_engine(db_url)
    try:
        series = await fresh_influx(influx, timeout_s=1.0, max_retries=1,
                                    backoff_initial_s=0.1, backoff_max_s=0.5)
        try:
            worker = series_worker(mosquitto, "ingest-0", engine, series)
            async with running(worker):
                run = asyncio.create_task(run_fleet(fleet, tmp_path / "fleet", timeout_s=120))
                while worker.stats.readings < 100:  # noqa: ASYNC110 - flowing first
                    await asyncio.sleep(0.05)
                influx.stop()
                stored_before = worker.stats.readings
                await asyncio.sleep(30)
                assert worker.stats.readings == stored_before  # nothing "written" meanwhile
                influx.start()
                await run
            expected = expected_ids(fleet)
            assert await series.count("bp", {}) == len(expected)
            assert sorted(archived_ids(engine)) == sorted(expected)
        finally:
            await series.aclose()
    finally:
        engine.dispose()
        influx.stop()
