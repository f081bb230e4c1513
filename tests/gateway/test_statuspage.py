"""The local status page over real HTTP: devices, last readings, active alerts, simulated."""

from __future__ import annotations

import asyncio

import httpx

from gateway.localview import DeviceRow, LocalView
from gateway.statuspage import StatusPage
from tests.gateway.gw_factories import alert, bp
from vitals.alerts import AlertState


async def test_page_shows_devices_readings_and_active_alerts() -> None:
    view = LocalView(devices=[DeviceRow("cuff-1", "blood_pressure", "p-7", True, None)])
    reading = bp(0, 186)
    view.item("cuff-1", reading)
    urgent = alert(reading)
    view.alerts_seen([urgent])
    view.health = {"gateway": "gw-1", "online": False, "outbox_depth": 12}
    page = StatusPage(view, "127.0.0.1", 0)
    task = asyncio.create_task(page.run())
    await asyncio.wait_for(page.started.wait(), 5)
    base = f"http://127.0.0.1:{page.bound_port}"
    async with httpx.AsyncClient() as client:
        html = (await client.get(base + "/")).text
        data = (await client.get(base + "/status.json")).json()
        missing = await client.get(base + "/nope")
        view.alerts_seen([urgent.model_copy(update={"state": AlertState.CLEARED})])
        after = (await client.get(base + "/")).text
    task.cancel()
    assert "186/80 mmHg" in html and "cuff-1" in html and "p-7" in html
    assert "URGENT: test alert" in html and "SIMULATED" in html
    assert "NOT connected" in html and "http" not in html.split("<body>")[1].lower()
    assert data["devices"][0]["last"]["text"].startswith("186/80")
    assert data["alerts"][0]["alert_id"] == urgent.alert_id
    assert missing.status_code == 404
    assert "No active alerts." in after
