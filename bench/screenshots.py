"""Screenshots of the dashboard's main pages into docs/screenshots/ (simulated data).

    python -m bench.screenshots [--out docs/screenshots]

Seeds a throw-away SQLite database with simulated patients, stores two gateway alerts
through the ingest sink (alerts judged by the gateway's own rule engine) and gateway
statuses as the ingest worker would (the fleet page), serves the API on
loopback and drives Debian's chromium headless. Pages whose API is not deployed show the
dashboard's "not available" note, as they would for a user.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from cloud_api.api.app import create_app
from cloud_api.dashboard.demo_data import seed
from cloud_api.dashboard.live_server import serve
from cloud_api.db.engine import make_engine
from cloud_api.db.migrate import upgrade
from cloud_api.ingest.batch import IngestBatch
from cloud_api.ingest.sinks import SqlStore
from cloud_api.settings import CloudSettings
from edge_rules.engine import evaluate
from edge_rules.ruleset import load_ruleset
from edge_rules.state import EngineState
from vitals.ids import new_msg_id
from vitals.readings import BloodPressure, DeviceRef, Glucose
from vitals.units import GlucoseUnit

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def _store_alerts(db_url: str, now: datetime) -> None:
    """An urgent low glucose and a high BP, raised by the rule engine as a gateway would."""
    engine = make_engine(db_url)
    dev = DeviceRef(make="Roche", model="Accu-Chek Guide", serial="SIM-GL-0002")
    cuff = DeviceRef(make="Omron", model="BP7450", serial="SIM-BP-0003")
    t1, t2 = now - timedelta(minutes=12), now - timedelta(minutes=3)
    readings: list[tuple[str, Glucose | BloodPressure]] = [
        ("gw-demo-2", Glucose(msg_id=new_msg_id(t1), patient="demo-patient-2", device=dev,
                              measured_at=t1, simulated=True, mg_dl=48, value_received=48,
                              unit_received=GlucoseUnit.MG_DL)),
        ("gw-demo-3", BloodPressure(msg_id=new_msg_id(t2), patient="demo-patient-3",
                                    device=cuff, measured_at=t2, simulated=True, systolic=186,
                                    diastolic=112, pulse=88)),
    ]
    for gw, reading in readings:
        alerts, _ = evaluate([reading], EngineState(), reading.measured_at,
                             ruleset=load_ruleset())
        batch = IngestBatch(now, gw, readings=(reading,), alerts=tuple(alerts))
        asyncio.run(SqlStore(engine).write(batch))
    engine.dispose()


def _store_statuses(db_url: str, now: datetime) -> None:
    """Heartbeats as the ingest worker stores them: two gateways online (one with a backlog and
    a low cuff battery), one whose Last Will arrived 25 minutes ago."""
    from cloud_api.alerting.presence import record_status
    from cloud_api.db.engine import session_factory
    from vitals.status import DeviceHealth, GatewayState, GatewayStatus

    def status(gw: str, state: GatewayState, at: datetime, depth: int,
               batteries: tuple[int, int]) -> GatewayStatus:
        return GatewayStatus(
            gateway=gw, state=state, boot_id=f"boot-{gw}", at=at, software="homerpm-gateway/0.1.0",
            config_version=2, outbox_depth=depth, adapter="powered", cpu_temp_c=47.5,
            disk_free_mb=11800.0, simulated=True,
            devices=(DeviceHealth(device="cuff", battery_pct=batteries[0], connected=True),
                     DeviceHealth(device="meter", battery_pct=batteries[1])))

    def ago(minutes: float) -> datetime:
        return now - timedelta(minutes=minutes)

    engine = make_engine(db_url)
    beats = [
        (status("gw-demo-1", GatewayState.ONLINE, ago(0.5), 0, (85, 70)), ago(0.5)),
        (status("gw-demo-2", GatewayState.ONLINE, ago(0.3), 37, (12, 64)), ago(0.3)),
        (status("gw-demo-3", GatewayState.ONLINE, ago(31), 4, (55, 90)), ago(31)),
        (status("gw-demo-3", GatewayState.OFFLINE, ago(40), 0, (55, 90)), ago(25)),  # Will
    ]
    for st, received in beats:
        with session_factory(engine).begin() as db:
            record_status(db, st, received)
    engine.dispose()


def _shoot(page: Page, base: str, out: Path) -> list[Path]:
    shots: list[Path] = []

    def snap(name: str, full: bool = True) -> None:
        page.wait_for_timeout(300)
        path = out / f"{name}.png"
        page.screenshot(path=str(path), full_page=full)
        shots.append(path)

    page.goto(f"{base}/dashboard/")
    page.fill("#username", "demo")
    page.fill("#password", "demo")
    page.click("button[type=submit]")
    page.wait_for_selector("#patient-table")
    snap("patient-list")
    page.goto(f"{base}/dashboard/#/patient/demo-patient-2")
    page.wait_for_selector("#bp-chart svg")
    page.set_viewport_size({"width": 1280, "height": 1500})
    snap("patient-page", full=False)
    page.click("#ecg-list a")
    page.wait_for_selector("#ecg-viewer svg")
    snap("ecg-viewer", full=False)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{base}/dashboard/#/inbox")
    page.wait_for_selector("#inbox-list, .na")
    snap("inbox")
    page.goto(f"{base}/dashboard/#/fleet")
    page.wait_for_selector("#fleet-table tbody tr")
    snap("fleet")
    page.select_option("#lang", "zh")
    page.goto(f"{base}/dashboard/#/patient/demo-patient-1")
    page.wait_for_selector("#bp-chart svg")
    page.set_viewport_size({"width": 1280, "height": 1500})
    snap("patient-page-zh", full=False)
    page.select_option("#lang", "en")
    page.click("#logout")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.fill("#username", "family1")
    page.fill("#password", "family1")
    page.click("button[type=submit]")
    page.wait_for_selector(".family")
    snap("family-view")
    return shots


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite:///{tmp}/cloud.db"
        engine = make_engine(db_url)
        upgrade(engine)
        now = datetime.now(UTC)
        seed(engine, now, days=13)
        engine.dispose()
        _store_alerts(db_url, now)
        _store_statuses(db_url, now)
        settings = CloudSettings(database_url=db_url, migrate_on_start=False)
        with serve(create_app(settings)) as base, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="en-GB")
            shots = _shoot(page, base, args.out)
            browser.close()
    for path in shots:
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
