"""Seed data for ``bench.api``: patients on the demo team, readings, and alerts with
their workflow rows (bulk inserts; one transaction per 25 patients)."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select

from cloud_api.alerting.models import AlertWorkflow, WorkflowStatus
from cloud_api.alerting.policy import DEFAULT_POLICY
from cloud_api.db.access_models import CareTeam, team_patients
from cloud_api.db.directory import DEMO_GATEWAY, DEMO_TEAM, seed_demo
from cloud_api.db.engine import make_engine, session_factory
from cloud_api.db.migrate import upgrade
from cloud_api.db.models import AlertRow, Patient, ReadingRow, gateway_patients
from vitals.alerts import Alert, AlertInput, AlertState, Severity
from vitals.ids import new_msg_id

DEVICE = {"make": "Omron", "model": "BP7450", "serial": "SIM-B"}
# ≈ 0.4 alerts per patient-week; most resolved, some acknowledged, a few still open.
ALERTS_PER_PATIENT_DAY = 0.06
STATUS_WEIGHTS = {WorkflowStatus.RESOLVED: 75, WorkflowStatus.ACKNOWLEDGED: 12,
                  WorkflowStatus.DELIVERED: 8, WorkflowStatus.RAISED: 5}
SEVERITY_WEIGHTS = {Severity.WARNING: 70, Severity.URGENT: 15, Severity.INFO: 15}


def patient_ids(patients: int) -> list[str]:
    return [f"bench-{i:05d}" for i in range(patients)]


def seed(url: str, patients: int, days: int) -> tuple[int, Counter[str]]:
    """Readings (4 BP + 2 glucose a day) and alerts; returns (readings, alerts per status)."""
    engine = make_engine(url)
    upgrade(engine)
    now = datetime.now(UTC).replace(microsecond=0)
    rng = random.Random(7)
    ids = patient_ids(patients)
    with session_factory(engine).begin() as db:
        seed_demo(db)
        team = db.scalar(select(CareTeam).where(CareTeam.name == DEMO_TEAM))
        assert team is not None
        org_id = team.org_id
        db.execute(insert(Patient), [{"id": p, "org_id": org_id, "display_name": p, "mrn": None,
                                      "created_at": now} for p in ids])
        db.execute(insert(team_patients), [{"team_id": team.id, "patient_id": p} for p in ids])
        db.execute(insert(gateway_patients), [{"gateway_id": DEMO_GATEWAY, "patient_id": p}
                                              for p in ids])
    readings: list[dict[str, Any]] = []
    alerts: list[dict[str, Any]] = []
    workflows: list[dict[str, Any]] = []
    rows, statuses = 0, Counter[str]()
    for n, p in enumerate(ids, 1):
        for d in range(days):
            for slot in range(6):
                at = now - timedelta(days=d, hours=slot * 3, minutes=rng.randint(0, 59))
                readings.append(_reading(rng, p, at, bp=slot < 4))
        for _ in range(_poisson(rng, ALERTS_PER_PATIENT_DAY * days)):
            at = now - timedelta(seconds=rng.uniform(0, days * 86400))
            alert, wf = _alert(rng, p, org_id, at.replace(microsecond=0), now)
            alerts.append(alert)
            workflows.append(wf)
            statuses[wf["status"]] += 1
        if n % 25 == 0 or n == len(ids):  # one transaction (one fsync) per 25 patients
            with session_factory(engine).begin() as db:
                db.execute(insert(ReadingRow), readings)
                if alerts:
                    db.execute(insert(AlertRow), alerts)
                    db.execute(insert(AlertWorkflow), workflows)
            rows += len(readings)
            readings, alerts, workflows = [], [], []
    engine.dispose()
    return rows, statuses


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method; the means here are small (≤ 10).
    limit, k, prod = pow(2.718281828459045, -mean), 0, rng.random()
    while prod > limit:
        k += 1
        prod *= rng.random()
    return k


def _reading(rng: random.Random, patient: str, at: datetime, *, bp: bool) -> dict[str, Any]:
    msg = new_msg_id(at)
    body: dict[str, Any]
    if bp:
        body = {"msg_id": msg, "kind": "blood_pressure", "patient": patient, "device": DEVICE,
                "measured_at": at.isoformat(), "simulated": True,
                "systolic": rng.randint(105, 170), "diastolic": rng.randint(60, 100),
                "pulse": rng.randint(55, 95), "unit_received": "mmHg"}
    else:
        body = {"msg_id": msg, "kind": "glucose", "patient": patient, "device": DEVICE,
                "measured_at": at.isoformat(), "simulated": True,
                "mg_dl": rng.randint(70, 220), "value_received": 100, "unit_received": "mg/dL"}
    return {"msg_id": msg, "patient_id": patient, "gateway_id": DEMO_GATEWAY,
            "kind": body["kind"], "measured_at": at, "received_at": at, "device_key": "SIM-B",
            "simulated": True, "body": body}


def _alert(rng: random.Random, patient: str, org_id: int, at: datetime,
           now: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    """An alert row as ingest stores it (the wire Alert as JSON) and its workflow row."""
    severity = rng.choices(list(SEVERITY_WEIGHTS), weights=list(SEVERITY_WEIGHTS.values()))[0]
    status = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()))[0]
    systolic = rng.randint(160, 200)
    alert = Alert(
        alert_id=new_msg_id(at), msg_id=new_msg_id(at), patient=patient, rule_id="bp_severe",
        rule_version="2026.1", severity=severity,
        state=AlertState.CLEARED if status == WorkflowStatus.RESOLVED else AlertState.OPEN,
        title="Blood pressure in the severe range",
        explanation=f"Systolic {systolic} mmHg ≥ 180 mmHg on a repeated measurement",
        inputs=(AlertInput(msg_id=new_msg_id(at), observable="systolic", value=systolic,
                           unit="mm[Hg]", measured_at=at),),
        thresholds={"systolic": 180.0, "diastolic": 110.0},
        source="China hypertension guideline 2018/2024 grade 3", raised_at=at, updated_at=at,
        cleared_at=at + timedelta(hours=2) if status == WorkflowStatus.RESOLVED else None,
        simulated=True,
    )
    row = {"alert_id": alert.alert_id, "patient_id": patient, "gateway_id": DEMO_GATEWAY,
           "rule_id": alert.rule_id, "severity": int(severity), "state": alert.state.value,
           "title": alert.title, "raised_at": at, "updated_at": at,
           "cleared_at": alert.cleared_at, "simulated": True, "last_msg_id": alert.msg_id,
           "body": alert.model_dump(mode="json", exclude_none=True)}
    acked = status in (WorkflowStatus.ACKNOWLEDGED, WorkflowStatus.RESOLVED)
    # Open alerts have already escalated as far as their age says (no backlog at start).
    level = 0
    while not acked and (due := DEFAULT_POLICY.due_at(at, severity, level)) and due <= now:
        level += 1
    wf = {"alert_id": alert.alert_id, "org_id": org_id, "patient_id": patient,
          "status": status, "severity": int(severity), "raised_at": at, "assignee_id": None,
          "escalation_level": level,
          "next_escalation_at": None if acked else DEFAULT_POLICY.due_at(at, severity, level),
          "snoozed_until": None,
          "acknowledged_at": at + timedelta(minutes=20) if acked else None,
          "acknowledged_by": "demo" if acked else None,
          "resolved_at": at + timedelta(hours=2) if status == WorkflowStatus.RESOLVED else None,
          "resolved_by": "demo" if status == WorkflowStatus.RESOLVED else None, "version": 1}
    return row, wf
