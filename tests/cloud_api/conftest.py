"""Fixtures for the cloud: a migrated SQLite store with the demo org plus a second org."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from cloud_api import security
from cloud_api.api.app import create_app
from cloud_api.db.directory import (
    create_org,
    create_patient,
    register_gateway,
    seed_demo,
)
from cloud_api.db.engine import make_engine, session_factory
from cloud_api.db.migrate import upgrade
from cloud_api.settings import CloudSettings
from tests.cloud_api.world import SECRET, World, build_world

POSTGRES_ENV = "HOMERPM_TEST_POSTGRES_URL"


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 at production cost takes ~0.3 s per hash; tests need the logic, not the cost."""
    monkeypatch.setattr(security, "_HASHER", PasswordHasher(time_cost=1, memory_cost=64,
                                                            parallelism=1))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test using ``db_url`` runs on SQLite and on PostgreSQL: a private cluster from the
    ``postgres`` fixture, or the server ``HOMERPM_TEST_POSTGRES_URL`` names (we create and drop
    a database per test there)."""
    if "db_url" in metafunc.fixturenames:
        backends = ["sqlite", pytest.param("postgresql", marks=pytest.mark.services)]
        metafunc.parametrize("db_url", backends, indirect=True)


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/cloud.db"
        return
    if not os.environ.get(POSTGRES_ENV):
        yield request.getfixturevalue("postgres_db_url")
        return
    server = make_url(os.environ[POSTGRES_ENV])
    name = f"homerpm_test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(server.render_as_string(hide_password=False),
                        isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield server.set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


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


@pytest.fixture
def world(engine: Engine) -> World:
    """The consortium of tests/cloud_api/world.py on top of ``engine``."""
    return build_world(engine)


@pytest.fixture
def api_settings(db_url: str, tmp_path: Path) -> CloudSettings:
    return CloudSettings(database_url=db_url, jwt_secret=SECRET,
                         broker_auth_dir=tmp_path / "broker-auth",
                         broker_public_url="mqtts://broker.test:8883")


@pytest.fixture
def api(world: World, api_settings: CloudSettings) -> Iterator[TestClient]:
    with TestClient(create_app(api_settings)) as client:
        yield client
