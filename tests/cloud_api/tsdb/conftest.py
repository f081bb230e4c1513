"""Both time-series backends behind one fixture, so every contract test runs on each."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cloud_api.tsdb.base import TimeSeriesStore
from cloud_api.tsdb.config import InfluxConfig
from cloud_api.tsdb.influx_v1 import InfluxV1Store
from cloud_api.tsdb.sqlite_store import SqliteStore


@pytest.fixture(params=["sqlite", "memory", pytest.param("influx", marks=pytest.mark.services)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[TimeSeriesStore]:
    """A fresh, empty store: a SQLite file, SQLite in memory (what unit tests of callers can
    use), or a new database on the session influxd."""
    if request.param in ("sqlite", "memory"):
        where = tmp_path / "ts.sqlite3" if request.param == "sqlite" else ":memory:"
        sqlite = await SqliteStore.open(where)
        yield sqlite
        await sqlite.aclose()
        return
    server = request.getfixturevalue("influxd")
    config = InfluxConfig(url=server.url, database=f"t_{uuid.uuid4().hex[:12]}", max_retries=0)
    influx = InfluxV1Store(config)
    await influx.ensure_database()
    yield influx
    await influx.drop_database()
    await influx.aclose()
