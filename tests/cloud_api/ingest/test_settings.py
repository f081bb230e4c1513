"""Worker flags for the time-series store, and the fatal exit on a misconfigured InfluxDB."""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

import pytest

from cloud_api.ingest.settings import add_batch_flags, add_tsdb_flags, tsdb_config_from
from firmware_sim.fleet import provision, run_fleet
from firmware_sim.services import Influxd, Mosquitto
from tests.cloud_api.ingest.harness import spec, start_worker_process


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_batch_flags(parser)
    add_tsdb_flags(parser)
    return parser.parse_args(argv)


def test_default_is_embedded_sqlite_next_to_the_database() -> None:
    config = tsdb_config_from(parse(), "sqlite:////srv/homerpm/cloud.db")
    assert config is not None and config.backend == "sqlite"
    assert config.sqlite_path == "/srv/homerpm/cloud.tsdb.sqlite3"
    server = tsdb_config_from(parse(), "postgresql://u:p@db/homerpm")
    assert server is not None and server.sqlite_path == "var/tsdb.sqlite3"


def test_influx_takes_its_secrets_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOMERPM_INFLUX_TOKEN", "s3cret")
    config = tsdb_config_from(parse("--tsdb", "influx", "--influx-url", "https://tsdb:8181",
                                    "--influx-db", "vitals", "--influx-flavor", "v3"), "sqlite://")
    assert config is not None and config.backend == "influx"
    assert config.influx.url == "https://tsdb:8181" and config.influx.database == "vitals"
    assert config.influx.auth_header == "Bearer s3cret"


def test_bad_choices_are_refused() -> None:
    assert tsdb_config_from(parse("--tsdb", "none"), "sqlite://") is None
    with pytest.raises(ValueError, match="sqlite:PATH, influx or none"):
        tsdb_config_from(parse("--tsdb", "mongo"), "sqlite://")
    with pytest.raises(ValueError, match="needs a path"):
        tsdb_config_from(parse("--tsdb", "sqlite:"), "sqlite://")


@pytest.mark.services
@pytest.mark.slow
async def test_missing_influx_database_stops_the_worker_loudly(
    mosquitto: Mosquitto, influxd: Influxd, tmp_path: Path
) -> None:
    db_url = f"sqlite:///{tmp_path}/cloud.db"
    fleet = spec(mosquitto, gateways=1, readings=5)
    provision(db_url, fleet)
    worker = start_worker_process(mosquitto, db_url, tmp_path, "ingest-0", 1, [
        "--tsdb", "influx", "--influx-url", influxd.url, "--influx-db", "no_such_db"])
    run = asyncio.create_task(run_fleet(fleet, tmp_path / "fleet", timeout_s=30))
    try:
        deadline = time.monotonic() + 20
        while worker.proc.poll() is None and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        assert worker.proc.returncode == 3, worker.log()
        assert "time-series store misconfigured" in worker.log()
    finally:
        run.cancel()
        await asyncio.gather(run, return_exceptions=True)
        worker.stop()
