"""Feeds gateway alert events, as the ingest worker stores them, into the lifecycle.

Called by :class:`cloud_api.ingest.sinks.SqlStore` inside the batch's transaction with
only the events that were new (a redelivered event is a no-op), so the alert row, its
lifecycle and its history commit together. The lifecycle part runs in a savepoint: if it
fails (a bug), the alert is still stored and acked, and :func:`open_orphans` (run by the
alerting loop) opens its workflow later — a lifecycle bug must never stall ingest. The same
sweep covers alerts stored by an ingest worker without this hook (rolling upgrades).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cloud_api.alerting.lifecycle import SYSTEM, Actor, add_activity, open_workflow, resolve
from cloud_api.alerting.models import AlertWorkflow, WorkflowStatus
from cloud_api.alerting.policy import policy_for
from cloud_api.db.models import AlertRow
from vitals.alerts import Alert, AlertState, Severity

log = logging.getLogger(__name__)


def record_gateway_alerts(db: Session, alerts: Sequence[Alert], gateway_id: str,
                          received_at: datetime) -> None:
    try:
        with db.begin_nested():
            _record(db, alerts, gateway_id, received_at)
    except Exception:
        log.exception("alert lifecycle failed for %s; the sweep will open it",
                      [a.alert_id for a in alerts])


def open_orphans(db: Session, now: datetime, limit: int = 200) -> int:
    """Open the workflow of stored alerts that have none; resolve those already cleared."""
    rows = db.scalars(
        select(AlertRow).outerjoin(AlertWorkflow, AlertWorkflow.alert_id == AlertRow.alert_id)
        .where(AlertWorkflow.alert_id.is_(None)).order_by(AlertRow.raised_at).limit(limit)
    ).all()
    for row in rows:
        wf = open_workflow(db, row, now, SYSTEM)
        if row.state == AlertState.CLEARED.value:
            resolve(db, wf, SYSTEM, now, reason="cleared before the workflow was opened")
    return len(rows)


def _record(db: Session, alerts: Sequence[Alert], gateway_id: str,
            received_at: datetime) -> None:
    actor = Actor(f"gateway:{gateway_id}")
    for alert in alerts:
        row = db.get(AlertRow, alert.alert_id)
        if row is None:  # cannot happen: the sink wrote it in this transaction
            continue
        wf = open_workflow(db, row, received_at, actor)
        if alert.state is AlertState.UPDATED:
            if alert.severity != wf.severity and wf.status != WorkflowStatus.RESOLVED:
                policy = policy_for(db, wf.org_id)
                wf.severity = int(alert.severity)
                wf.next_escalation_at = (
                    policy.due_at(wf.raised_at, wf.severity, wf.escalation_level)
                    if wf.status in WorkflowStatus.OPEN else None)
                wf.version += 1
            add_activity(db, wf, "updated", actor, received_at, {
                "severity": Severity(alert.severity).label, "title": alert.title,
                "explanation": alert.explanation,
                "inputs": [i.model_dump(mode="json") for i in alert.inputs]})
        elif alert.state is AlertState.CLEARED and wf.status != WorkflowStatus.RESOLVED:
            resolve(db, wf, actor, received_at, reason="condition cleared on the gateway")
