"""Shared fixtures: real services on free loopback ports, stopped by pid afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware_sim.services import Influxd, Mosquitto


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
