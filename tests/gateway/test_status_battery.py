"""The status heartbeat carries each BLE device's Battery Level (``battery_pct``).

The whole gateway (``gateway.app.run``) with a simulated GATT cuff served in-process
(the real BLE session code reads its Battery Level 0x2A19) against a real mosquitto and
the fake cloud; a device that is not BLE (the scenario cuff) reports none.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from firmware_sim.services import Mosquitto
from gateway.app import run
from gateway.config import GatewayConfig
from gateway.localview import LocalView
from gateway.statuspage import render_html, render_json
from tests.gateway.fake_cloud import FakeCloud, running
from tests.gateway.gw_factories import quick_gateway, until
from vitals.status import GatewayState

pytestmark = pytest.mark.services
GW = "gw-battery"


def config(tmp_path: Path, port: int) -> GatewayConfig:
    return quick_gateway(
        GW, tmp_path, port, rules={"enabled": False},
        devices=[{"id": "cuff", "kind": "blood_pressure", "simulated": True,
                  "simulator": "gatt", "patient": "p-9", "interval_s": 0.2, "count": 1},
                 {"id": "scenario-cuff", "kind": "blood_pressure", "simulated": True,
                  "simulator": "scenario", "patient": "p-9", "interval_s": 3600}])


def batteries(cloud: FakeCloud) -> dict[str, int | None]:
    """device → battery_pct in the latest online heartbeat."""
    online = [s.status for s in cloud.status if s.status.state is GatewayState.ONLINE]
    return {d.device: d.battery_pct for d in online[-1].devices} if online else {}


async def test_status_carries_the_simulated_cuffs_battery(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    cloud = FakeCloud(mosquitto.port)
    async with running(cloud):
        assert batteries(cloud) == {}
        stop = asyncio.Event()
        view = LocalView()
        task = asyncio.create_task(run(config(tmp_path, mosquitto.port), stop, view=view))
        try:
            # The simulators' default Battery Level is 87 % (firmware_sim gatt_model).
            await until(lambda: batteries(cloud).get("cuff") == 87, within=30)
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)
    assert batteries(cloud) == {"cuff": 87, "scenario-cuff": None}
    # The family sees it too, on the local status page.
    assert view.health["battery_pct"] == {"cuff": 87}
    assert "Battery 87 %" in render_html(view)
    assert [d["battery_pct"] for d in render_json(view)["devices"]] == [87, None]
