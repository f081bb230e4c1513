"""Cloud rules: a gateway whose MQTT client dies (Last Will) raises "gateway offline";
silent devices; the weekly home-BP worklist."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cloud_api.alerting.clock import FakeClock
from cloud_api.alerting.cloud_rules import CloudRules
from cloud_api.alerting.models import AlertWorkflow, GatewayPresence, WorklistItem
from cloud_api.db.directory import DEMO_PATIENT, seed_demo
from cloud_api.db.engine import make_engine, session_factory
from cloud_api.db.migrate import upgrade
from cloud_api.db.models import AlertRow
from cloud_api.ingest.batch import IngestBatch
from cloud_api.ingest.config import BrokerAddress, IngestConfig
from cloud_api.ingest.sinks import SqlStore
from cloud_api.ingest.worker import IngestWorker
from firmware_sim.services import Mosquitto
from tests.cloud_api.factories import DEVICE
from vitals.ids import new_msg_id
from vitals.readings import BloodPressure

GATEWAY_CLIENT = textwrap.dedent("""
    import asyncio, sys
    from datetime import UTC, datetime
    import aiomqtt
    from vitals.status import GatewayState, GatewayStatus
    from vitals.wire import StatusMessage, encode
    host, port = sys.argv[1], int(sys.argv[2])
    def status(state):
        return encode(StatusMessage(status=GatewayStatus(
            gateway="gw-demo-1", state=state, boot_id="boot-1", at=datetime.now(UTC),
            simulated=True)))
    async def main():
        will = aiomqtt.Will("homerpm/v1/gw-demo-1/status", status(GatewayState.OFFLINE),
                            qos=1, retain=True)
        async with aiomqtt.Client(host, port, identifier="gw-demo-1", will=will,
                                  keepalive=5) as c:
            await c.publish("homerpm/v1/gw-demo-1/status", status(GatewayState.ONLINE),
                            qos=1, retain=True)
            print("online", flush=True)
            await asyncio.sleep(3600)
    asyncio.run(main())
""")


def presence(engine: Engine) -> GatewayPresence | None:
    with Session(engine) as db:
        return db.get(GatewayPresence, "gw-demo-1")


def cloud_alerts(engine: Engine, rule_id: str) -> list[tuple[AlertRow, AlertWorkflow]]:
    with Session(engine) as db:
        return [(a, w) for a, w in db.execute(
            select(AlertRow, AlertWorkflow).join(AlertWorkflow,
                                                 AlertWorkflow.alert_id == AlertRow.alert_id)
            .where(AlertRow.rule_id == rule_id)).all()]


@pytest.fixture
def repo_env() -> Iterator[dict[str, str]]:
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    yield {**os.environ, "PYTHONPATH": root}


@pytest.mark.services
async def test_last_will_of_a_killed_gateway_raises_gateway_offline(
    engine: Engine, mosquitto: Mosquitto, repo_env: dict[str, str]
) -> None:
    store = SqlStore(engine)
    worker = IngestWorker(IngestConfig("ingest-t", BrokerAddress(mosquitto.host, mosquitto.port),
                                       backoff_initial_s=0.1), store, store)
    task = asyncio.create_task(worker.run())
    args = [sys.executable, "-c", GATEWAY_CLIENT, mosquitto.host, str(mosquitto.port)]
    gw = subprocess.Popen(args, env=repo_env, stdout=subprocess.PIPE)  # noqa: ASYNC220
    try:
        await asyncio.wait_for(worker.connected.wait(), 10)
        assert gw.stdout is not None
        assert (await asyncio.to_thread(gw.stdout.readline)).strip() == b"online"
        for _ in range(100):
            p = presence(engine)
            if p is not None:
                break
            await asyncio.sleep(0.1)
        assert p is not None and p.state == "online"
        rules = CloudRules(session_factory(engine), FakeClock(datetime.now(UTC)))
        await asyncio.to_thread(rules.run_once)
        assert cloud_alerts(engine, "gateway_offline") == []

        gw.send_signal(signal.SIGKILL)  # no DISCONNECT: the broker publishes the Will
        await asyncio.to_thread(gw.wait)
        for _ in range(150):
            p = presence(engine)
            if p is not None and p.state == "offline":
                break
            await asyncio.sleep(0.1)
        assert p is not None and p.state == "offline"
        await asyncio.to_thread(rules.run_once)
        await asyncio.to_thread(rules.run_once)  # idempotent: still one alert
        [(alert, wf)] = cloud_alerts(engine, "gateway_offline")
        assert alert.patient_id == "demo-patient-1" and alert.body["origin"] == "cloud"
        assert "Last Will" in alert.body["explanation"] and wf.status == "raised"
    finally:
        if gw.poll() is None:
            gw.kill()
            gw.wait()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def _bp(at: datetime, systolic: float, diastolic: float = 80.0) -> BloodPressure:
    return BloodPressure(msg_id=new_msg_id(at), patient="demo-patient-1", device=DEVICE,
                         measured_at=at, simulated=True, systolic=systolic,
                         diastolic=diastolic, pulse=70.0)


def test_heartbeat_timeout_then_recovery_and_silent_device(engine: Engine) -> None:
    from cloud_api.alerting.cloud_rules import record_status
    from vitals.status import GatewayState, GatewayStatus

    t = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    sessions = session_factory(engine)
    with sessions.begin() as db:
        record_status(db, GatewayStatus(gateway="gw-demo-1", state=GatewayState.ONLINE,
                                        boot_id="b", at=t), t)
    asyncio.run(SqlStore(engine).write(IngestBatch(t, "gw-demo-1", readings=(_bp(t, 120),))))
    clock = FakeClock(t + timedelta(seconds=599))
    rules = CloudRules(sessions, clock)
    rules.run_once()
    assert cloud_alerts(engine, "gateway_offline") == []
    clock.advance(2)
    rules.run_once()
    [(alert, wf)] = cloud_alerts(engine, "gateway_offline")
    assert "no status for more than 10 min" in alert.body["explanation"]
    with sessions.begin() as db:  # heartbeat again
        record_status(db, GatewayStatus(gateway="gw-demo-1", state=GatewayState.ONLINE,
                                        boot_id="b", at=clock.now()), clock.now())
    rules.run_once()
    [(alert, wf)] = cloud_alerts(engine, "gateway_offline")
    assert wf.status == "resolved" and alert.state == "cleared"

    assert cloud_alerts(engine, "no_data_device") == []
    clock.advance(48 * 3600)
    rules.run_once()
    [(alert, wf)] = cloud_alerts(engine, "no_data_device")
    assert alert.body["device_key"] == DEVICE.key and alert.severity == 1


def test_weekly_worklist_from_722_home_bp(engine: Engine) -> None:
    # 7 days, morning 07:00 and evening 21:00 UTC, two readings a minute apart each.
    start = datetime(2026, 11, 16, tzinfo=UTC)
    readings = []
    for day in range(7):
        for hour in (7, 21):
            at = start + timedelta(days=day, hours=hour)
            sys_ = 180 if day == 0 else 140  # day 1 is dropped: its 180s must not count
            readings += [_bp(at, sys_, 86), _bp(at + timedelta(minutes=1), sys_ - 2, 84)]
    asyncio.run(SqlStore(engine).write(IngestBatch(start, "gw-demo-1", readings=tuple(readings))))
    rules = CloudRules(session_factory(engine), FakeClock(start + timedelta(days=7)))
    rules.run_once()
    rules.run_once()
    with Session(engine) as db:
        [item] = db.scalars(select(WorklistItem)).all()
    assert item.kind == "home_bp_uncontrolled" and item.period == "2026-W48"
    assert item.detail["mean_systolic"] == 139.0 and item.detail["mean_diastolic"] == 85.0
    assert len(item.detail["days_used"]) == 6 and item.detail["sessions_used"] == 12
    assert cloud_alerts(engine, "home_bp_uncontrolled") == []  # a worklist item, not a page


def test_rule_scans_do_not_wait_for_the_sqlite_write_lock(tmp_path: Path) -> None:
    """The scans read in a read-only transaction: another writer holding SQLite's lock
    (an API audit batch, an ingest worker) neither blocks them nor is blocked by them."""
    engine = make_engine(f"sqlite:///{tmp_path}/rules.db")
    upgrade(engine)
    with session_factory(engine).begin() as db:
        seed_demo(db)
    start = datetime(2026, 11, 16, tzinfo=UTC)
    readings = tuple(_bp(start + timedelta(days=d, hours=h), 150, 95)
                     for d in range(7) for h in (7, 21))
    asyncio.run(SqlStore(engine).write(IngestBatch(start, "gw-demo-1", readings=readings)))
    rules = CloudRules(session_factory(engine), FakeClock(start + timedelta(days=7)))
    writer = sqlite3.connect(f"{tmp_path}/rules.db", isolation_level=None, timeout=0)
    try:
        writer.execute("BEGIN IMMEDIATE")  # holds the write lock during the scans
        with rules._read_only() as db:
            now = rules.clock.now()
            devices, _ = rules.device_scan(db, now)
            items = rules.worklist_scan(db, now)
        writer.execute("COMMIT")
    finally:
        writer.close()
        engine.dispose()
    assert [d[:3] for d in devices] == [(DEMO_PATIENT, DEVICE.key, "blood_pressure")]
    assert [i["patient_id"] for i in items] == [DEMO_PATIENT]
