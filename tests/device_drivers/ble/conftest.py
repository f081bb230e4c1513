"""BlueZ mock fixture: a private dbus-daemon + bluezoo (separate processes, stopped by pid).

Adapters: hci0 is the gateway's, hci4 a second gateway adapter ("after a restart");
hci1-hci3 host one simulated device each (BlueZ and the mock advertise one device per
controller).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware_sim.bluez.mock import BlueZooMock


@pytest.fixture(scope="module")
def bluez_mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BlueZooMock]:
    mock = BlueZooMock(Path(tmp_path_factory.mktemp("bluezoo")), adapters=5).start()
    yield mock
    mock.stop()


@pytest.fixture
def bluez(bluez_mock: BlueZooMock) -> Iterator[BlueZooMock]:
    """The mock, with DBUS_SYSTEM_BUS_ADDRESS pointing at it for this test."""
    with bluez_mock.environment():
        yield bluez_mock
