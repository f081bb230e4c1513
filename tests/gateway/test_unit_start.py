"""The gateway started exactly as its systemd unit starts it on a Pi: the unit's environment
(``python -OO``, the bytecode cache prefix), its ``ExecStartPre`` (``homerpm gateway
precompile``), then ``homerpm gateway run`` reading a cuff through bleak on the BlueZoo mock."""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware_sim.bluez.mock import BlueZooMock
from firmware_sim.services import Mosquitto, spawn
from firmware_sim.unit import Unit
from tests.gateway.fake_cloud import FakeCloud, running
from tests.gateway.gw_factories import until
from tests.gateway.gw_process import REPO, sim_device

pytestmark = [pytest.mark.bluez, pytest.mark.timeout(120)]

UNIT = REPO / "deploy" / "systemd" / "homerpm-gateway.service"


@pytest.fixture
def cuff(tmp_path: Path) -> Iterator[tuple[BlueZooMock, str]]:
    mock = BlueZooMock(tmp_path / "bluezoo", adapters=2).start()
    try:
        with sim_device(mock, "bp", 1, "--interval", "2") as address:
            yield mock, address
    finally:
        mock.stop()


def cached(cache: Path) -> set[Path]:
    return set(cache.rglob("*.pyc"))


async def test_the_unit_precompiles_and_the_gateway_then_compiles_nothing(
    tmp_path: Path, mosquitto: Mosquitto, cuff: tuple[BlueZooMock, str]
) -> None:
    mock, address = cuff
    config = tmp_path / "gateway.toml"
    config.write_text(f"""
gateway_id = "gw-unit"
[mqtt]
url = "mqtt://127.0.0.1:{mosquitto.port}"
[outbox]
path = "{tmp_path / "outbox.db"}"
[status_page]
enabled = false
[bluetooth]
adapter = "hci0"
[[devices]]
id = "cuff"
kind = "blood_pressure"
address = "{address}"
patient = "pseudo-7"
""")
    cache = tmp_path / "cache"
    unit = Unit.read(UNIT).localized({"/etc/homerpm/gateway.toml": str(config),
                                      "/var/cache/homerpm": str(cache)})
    # the gateway would write any module missing from the cache: let it, to see it
    env = unit.service_environment({**mock.env(), "PYTHONPATH": str(REPO)})
    for output in await unit.run_pre(env):
        assert "at optimisation level 2" in output
    before = cached(cache)
    names = {p.name for p in before}
    # stdlib, dependencies and our own code, all at the unit's level (-OO)
    for module in ("base_events", "main", "app", "bleak_transport", "client", "analysis"):
        assert f"{module}.cpython-{sys.version_info[0]}{sys.version_info[1]}.opt-2.pyc" in names

    async with running(FakeCloud(mosquitto.port)) as cloud:
        gateway = spawn("gateway", Unit.argv(unit.exec_start), tmp_path / "logs", env=env)
        try:
            await until(lambda: len(cloud.distinct()) >= 1, within=60)
        finally:
            gateway.proc.send_signal(signal.SIGTERM)
            assert gateway.proc.wait(30) == 0, gateway.log()[-3000:]
    assert cached(cache) - before == set(), "the gateway compiled modules ExecStartPre missed"
