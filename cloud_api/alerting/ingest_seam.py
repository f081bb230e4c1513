"""Feeds gateway alert events, as the ingest worker stores them, into the lifecycle.

Called by :class:`cloud_api.ingest.sinks.SqlStore` inside the batch's transaction with
only the events that were new (a redelivered event is a no-op), so the alert row, its
lifecycle and its history commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from cloud_api.alerting.lifecycle import Actor, add_activity, open_workflow, resolve
from cloud_api.alerting.models import WorkflowStatus
from cloud_api.alerting.policy import policy_for
from cloud_api.db.models import AlertRow
from vitals.alerts import Alert, AlertState, Severity


def record_gateway_alerts(db: Session, alerts: Sequence[Alert], gateway_id: str,
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
