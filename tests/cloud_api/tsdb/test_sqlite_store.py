"""SQLite backend specifics: durability across reopen, WAL, concurrent stores on one file."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from cloud_api.tsdb import TsdbConfig, open_store
from cloud_api.tsdb.base import SeriesPoint, StoreConfigError, StoreUnavailable
from cloud_api.tsdb.sqlite_store import SqliteStore

TAGS = {"tenant": "c1", "patient": "p1", "device": "d1"}


async def test_reopen_keeps_points_and_field_types(tmp_path: Path) -> None:
    path = tmp_path / "ts.sqlite3"
    async with await SqliteStore.open(path) as store:
        await store.write([SeriesPoint("glucose", TAGS, {"mg_dl": 101.0}, 1000)])
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    async with await SqliteStore.open(path) as store:
        result = await store.write([SeriesPoint("glucose", TAGS, {"mg_dl": 99}, 2000)])
        assert [r.point.time_ms for r in result.rejected] == [2000]
        assert [r.fields for r in await store.query_range("glucose", TAGS, 0, 10_000)] == [
            {"mg_dl": 101.0}
        ]


async def test_two_stores_on_one_file_agree(tmp_path: Path) -> None:
    """Like two ingest processes: caches never disagree with what the other committed."""
    path = tmp_path / "ts.sqlite3"
    async with await SqliteStore.open(path) as one, await SqliteStore.open(path) as two:
        await one.write([SeriesPoint("spo2", TAGS, {"spo2_pct": 97.0}, 1000)])
        clash = await two.write([SeriesPoint("spo2", TAGS, {"spo2_pct": "high"}, 2000)])
        assert not clash.ok
        await asyncio.gather(
            one.write(
                [SeriesPoint("spo2", TAGS, {"spo2_pct": 90.0 + i}, 3000 + i) for i in range(50)]
            ),
            two.write(
                [SeriesPoint("spo2", TAGS, {"pulse": 60.0 + i}, 3000 + i) for i in range(50)]
            ),
        )
        assert await one.count("spo2", TAGS) == 51
        rows = await two.query_range("spo2", TAGS, 3000, 3001)
        assert dict(rows[0].fields) == {"spo2_pct": 90.0, "pulse": 60.0}


async def test_closed_store_is_unavailable_and_ping_false(tmp_path: Path) -> None:
    store = await SqliteStore.open(tmp_path / "ts.sqlite3")
    await store.aclose()
    assert await store.ping() is False
    with pytest.raises(StoreUnavailable):
        await store.count("bp", {})


async def test_unopenable_path_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    with pytest.raises(StoreConfigError):
        await SqliteStore.open(tmp_path / "dir")


async def test_open_store_from_config_defaults_to_sqlite(tmp_path: Path) -> None:
    store = await open_store(TsdbConfig(sqlite_path=str(tmp_path / "x" / "ts.sqlite3")))
    try:
        assert isinstance(store, SqliteStore)
        assert (await store.write([SeriesPoint("bp", TAGS, {"systolic": 1.0}, 1)])).ok
    finally:
        await store.aclose()


async def test_prune_deletes_only_older_points_of_one_measurement(tmp_path: Path) -> None:
    async with await SqliteStore.open(tmp_path / "ts.sqlite3") as store:
        await store.write(
            [
                SeriesPoint("gw_health", {"gw": "g1"}, {"online": True}, t)
                for t in range(0, 10_000, 1000)
            ]
        )
        await store.write([SeriesPoint("bp", TAGS, {"systolic": 120.0}, 10)])
        assert await store.prune("gw_health", 4000) == 4
        assert [r.time_ms for r in await store.query_range("gw_health", {}, 0, 10**6)][:2] == [
            4000,
            5000,
        ]
        assert await store.count("bp", {}) == 1
