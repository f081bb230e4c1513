"""The local status page over real HTTP: devices, last readings, active alerts, simulated."""

from __future__ import annotations

import asyncio
import html
import subprocess
import sys
from pathlib import Path

import httpx
from hypothesis import given
from hypothesis import strategies as st

from gateway.localview import DeviceRow, LocalView
from gateway.statuspage import StatusPage, escape, render_html
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


def test_a_low_battery_asks_for_a_change_and_a_good_one_is_plain() -> None:
    view = LocalView(devices=[DeviceRow("cuff-1", "blood_pressure", "p-7", False, None),
                              DeviceRow("meter-1", "glucose", "p-7", False, None),
                              DeviceRow("strap-1", "ecg", "p-7", False, None)])
    view.health = {"battery_pct": {"cuff-1": 12, "meter-1": 64}}
    cards = render_html(view).split('<div class="card">')[1:]
    assert "Battery 12 % — please change or charge it" in cards[0]
    assert "Battery 64 %" in cards[1] and "please change" not in cards[1]
    assert "Battery" not in cards[2]  # no Battery Level from that device


@given(st.text(alphabet=st.sampled_from("&<>\"'a é;#x27"), max_size=40) | st.text(max_size=40))
def test_escape_is_html_escape(text: str) -> None:
    assert escape(text) == html.escape(text)


def test_page_escapes_markup_in_device_names() -> None:
    view = LocalView(devices=[DeviceRow("<b>&'\"", "blood_pressure", "p-7", False, None)])
    page = render_html(view)
    assert "&lt;b&gt;&amp;&#x27;&quot;" in page and "<b>&'" not in page


def test_status_page_does_not_import_html_entities() -> None:
    """The page escapes without the stdlib ``html`` package (its entity tables cost
    ~0.45 MB of the gateway's RSS budget)."""
    code = "import sys, gateway.statuspage; print('html.entities' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[2]).stdout
    assert out.strip() == "False"
