"""Fixtures for the cloud: a migrated SQLite store with the demo org plus a second org."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine

from cloud_api import security
from cloud_api.db.directory import (
    create_org,
    create_patient,
    register_gateway,
    seed_demo,
)
from cloud_api.db.engine import make_engine, session_factory
from cloud_api.db.migrate import upgrade


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 at production cost takes ~0.3 s per hash; tests need the logic, not the cost."""
    monkeypatch.setattr(security, "_HASHER", PasswordHasher(time_cost=1, memory_cost=64,
                                                            parallelism=1))


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/cloud.db"


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """Schema at head; demo org (demo-patient-1 on gw-demo-1) and other-clinic
    (other-patient on gw-other)."""
    engine = make_engine(db_url)
    upgrade(engine)
    with session_factory(engine).begin() as db:
        seed_demo(db)
        create_org(db, "other-clinic", "Other Clinic")
        create_patient(db, "other-clinic", "other-patient", "Other Patient")
        register_gateway(db, "gw-other", ["other-patient"])
    yield engine
    engine.dispose()
