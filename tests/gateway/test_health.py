"""Host health probes answer something sensible everywhere (or say unknown)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.health import adapter_state, cpu_temp_c, disk_free_mb


def test_cpu_temp_from_thermal_zone(tmp_path: Path) -> None:
    zone = tmp_path / "temp"
    zone.write_text("48312\n")
    assert cpu_temp_c(zone) == 48.3
    assert cpu_temp_c(tmp_path / "missing") is None


def test_disk_free_of_the_outbox_filesystem(tmp_path: Path) -> None:
    free = disk_free_mb(tmp_path / "outbox.db")  # file not created yet: its directory counts
    assert free is not None and free > 0


async def test_adapter_state_without_bluez_is_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/bus")
    assert await adapter_state("hci0", timeout_s=1) == "unknown"


@pytest.mark.bluez
async def test_adapter_state_from_bluez_over_dbus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Against BlueZoo (BlueZ's D-Bus API, --auto-enable): hci0 is powered, hci9 absent."""
    from firmware_sim.bluez.mock import BlueZooMock

    mock = BlueZooMock(tmp_path / "bluezoo", adapters=1).start()
    try:
        monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", mock.bus_address)
        assert await adapter_state("hci0") == "powered"
        assert await adapter_state("hci9") == "absent"
    finally:
        mock.stop()
