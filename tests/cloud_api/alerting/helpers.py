"""Builders for alert tests: gateway alert events stored through the real ingest sink."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy import Engine, select

from cloud_api.alerting.models import NotificationTarget
from cloud_api.db.engine import session_factory
from cloud_api.db.models import Patient
from cloud_api.ingest.batch import IngestBatch
from cloud_api.ingest.sinks import SqlStore
from tests.cloud_api.factories import T0
from vitals.alerts import Alert, AlertInput, AlertState, Severity
from vitals.ids import new_msg_id

SECRET = "webhook-secret-0123456789"


def gateway_alert(patient: str = "demo-patient-1", severity: Severity = Severity.URGENT,
                  at: datetime = T0, state: AlertState = AlertState.OPEN,
                  alert_id: str | None = None, rule_id: str = "glucose_low",
                  simulated: bool = True) -> Alert:
    return Alert(
        alert_id=alert_id or new_msg_id(at), msg_id=new_msg_id(at), patient=patient,
        rule_id=rule_id, rule_version="defaults-1", severity=severity, state=state,
        title="Glucose below 54 mg/dL", explanation="Glucose 48 mg/dL < 54 mg/dL",
        inputs=(AlertInput(observable="glucose", value=48, unit="mg/dL", measured_at=at),),
        thresholds={"urgent_below": 54.0}, source="ADA Standards of Care §6",
        raised_at=at, updated_at=at, simulated=simulated,
        cleared_at=at if state is AlertState.CLEARED else None,
    )


def store(engine: Engine, *alerts: Alert, gateway: str = "gw-demo-1",
          received_at: datetime = T0 + timedelta(seconds=1)) -> None:
    asyncio.run(astore(engine, *alerts, gateway=gateway, received_at=received_at))


async def astore(engine: Engine, *alerts: Alert, gateway: str = "gw-demo-1",
                 received_at: datetime = T0 + timedelta(seconds=1)) -> None:
    await SqlStore(engine).write(IngestBatch(received_at, gateway, alerts=alerts))


def add_target(engine: Engine, channel: str, address: str, tier: str = "nurse") -> int:
    with session_factory(engine).begin() as db:
        org = db.scalar(select(Patient.org_id).where(Patient.id == "demo-patient-1"))
        t = NotificationTarget(org_id=org, tier=tier, channel=channel, address=address,
                               secret=SECRET if channel == "webhook" else None,
                               min_severity=1, enabled=True)
        db.add(t)
        db.flush()
        return t.id
