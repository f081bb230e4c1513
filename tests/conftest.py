"""Shared fixtures: real services on free loopback ports, stopped by pid afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware_sim.services import Influxd, Mosquitto, Postgres


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    """A fresh broker per test (persistence on, anonymous loopback listener)."""
    broker = Mosquitto(tmp_path / "mosquitto").start()
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def influxd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Influxd]:
    """One influxd per test session; tests use their own database names."""
    server = Influxd(tmp_path_factory.mktemp("influxd")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Postgres]:
    """One PostgreSQL cluster per test session (initdb'd as ``postgres`` when run as root)."""
    server = Postgres(tmp_path_factory.mktemp("postgres")).start()
    yield server
    server.discard()


@pytest.fixture(scope="session")
def postgres_url(postgres: Postgres) -> str:
    """SQLAlchemy URL (psycopg2) of the session cluster's ``homerpm`` database (shared)."""
    return postgres.sqlalchemy_url


@pytest.fixture
def postgres_db_url(postgres: Postgres) -> Iterator[str]:
    """SQLAlchemy URL of a fresh, empty database on the session cluster; dropped afterwards."""
    import psycopg2

    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = psycopg2.connect(postgres.url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE {name}")
    yield postgres.sqlalchemy_url.rsplit("/", 1)[0] + "/" + name
    with admin.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.close()
