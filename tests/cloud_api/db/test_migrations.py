"""Alembic migrations: head matches the models, upgrades are idempotent and concurrent-safe."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from cloud_api.db.engine import make_engine
from cloud_api.db.migrate import is_current, upgrade, upgrade_url
from cloud_api.db.models import Base


def test_upgrade_creates_schema_matching_models(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        assert not is_current(engine)
        upgrade(engine)
        upgrade(engine)  # idempotent
        assert is_current(engine)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == []
        assert {"readings", "dead_letters", "audit_log", "alerts", "alert_events",
                "gateway_events", "gateway_patients"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_concurrent_upgrades_from_separate_processes(db_url: str) -> None:
    # API and ingest workers all upgrade at start-up; they must not trip over each other.
    with ProcessPoolExecutor(3, mp_context=multiprocessing.get_context("fork")) as pool:
        list(pool.map(upgrade_url, [db_url] * 3))
    engine = make_engine(db_url)
    try:
        assert is_current(engine)
    finally:
        engine.dispose()


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/wal.db")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()
