"""What the API returns for an alert: its lifecycle, why it fired, history, deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from cloud_api.alerting.lifecycle import explain, explanation
from cloud_api.alerting.models import AlertActivity, AlertDelivery, AlertWorkflow
from cloud_api.alerting.policy import EscalationPolicy, policy_for
from cloud_api.db.models import AlertRow
from vitals.alerts import Severity


class ActivityOut(BaseModel):
    id: int
    kind: str
    at: datetime
    actor: str
    detail: dict[str, Any]


class DeliveryOut(BaseModel):
    activity_id: int
    channel: str
    recipient: str
    status: str
    attempts: int
    sent_at: datetime | None


class AlertOut(BaseModel):
    alert_id: str
    patient_id: str
    gateway_id: str | None
    rule_id: str
    severity: str
    title: str
    status: str
    engine_state: str
    raised_at: datetime
    updated_at: datetime
    simulated: bool
    assignee_id: int | None
    escalation_level: int
    tier: str
    next_escalation_at: datetime | None
    snoozed_until: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    why: dict[str, Any]
    history: list[ActivityOut] | None = None
    deliveries: list[DeliveryOut] | None = None


class AlertsPageOut(BaseModel):
    items: list[AlertOut]
    next_cursor: str | None


# The columns an inbox row needs (Core rows, not ORM instances: see inbox_item).
INBOX_COLUMNS = (
    AlertWorkflow.alert_id, AlertWorkflow.patient_id, AlertRow.gateway_id, AlertRow.rule_id,
    AlertWorkflow.severity, AlertRow.title, AlertWorkflow.status,
    AlertRow.state.label("engine_state"), AlertWorkflow.raised_at, AlertRow.updated_at,
    AlertRow.simulated, AlertWorkflow.assignee_id, AlertWorkflow.escalation_level,
    AlertWorkflow.next_escalation_at, AlertWorkflow.snoozed_until,
    AlertWorkflow.acknowledged_at, AlertWorkflow.acknowledged_by, AlertWorkflow.resolved_at,
    AlertWorkflow.resolved_by, AlertWorkflow.org_id, AlertRow.body,
)
_LABELS = {int(s): s.label for s in Severity}


def inbox_item(db: Session, row: Any, policies: dict[int, EscalationPolicy]) -> dict[str, Any]:
    """An :class:`AlertOut` without history/deliveries, as a dict in the model's field order,
    from a row of :data:`INBOX_COLUMNS`. The inbox answers 200 of these per page; building
    them from plain rows (no ORM instances, no model validation) is what keeps it cheap.
    ``policies``: a per-request cache (an inbox page shares one organisation's policy)."""
    if row.org_id not in policies:
        policies[row.org_id] = policy_for(db, row.org_id)
    steps = policies[row.org_id].steps
    return {
        "alert_id": row.alert_id, "patient_id": row.patient_id, "gateway_id": row.gateway_id,
        "rule_id": row.rule_id, "severity": _LABELS[row.severity], "title": row.title,
        "status": row.status, "engine_state": row.engine_state, "raised_at": row.raised_at,
        "updated_at": row.updated_at, "simulated": row.simulated,
        "assignee_id": row.assignee_id, "escalation_level": row.escalation_level,
        "tier": steps[min(row.escalation_level, len(steps) - 1)].tier,
        "next_escalation_at": row.next_escalation_at, "snoozed_until": row.snoozed_until,
        "acknowledged_at": row.acknowledged_at, "acknowledged_by": row.acknowledged_by,
        "resolved_at": row.resolved_at, "resolved_by": row.resolved_by,
        "why": explain(row.body), "history": None, "deliveries": None,
    }


def alert_out(db: Session, wf: AlertWorkflow, alert: AlertRow, *, full: bool = False,
              policies: dict[int, EscalationPolicy] | None = None) -> AlertOut:
    """``policies``: a per-request cache (an inbox page shares one organisation's policy)."""
    policies = {} if policies is None else policies
    if wf.org_id not in policies:
        policies[wf.org_id] = policy_for(db, wf.org_id)
    steps = policies[wf.org_id].steps
    out = AlertOut(
        alert_id=wf.alert_id, patient_id=wf.patient_id, gateway_id=alert.gateway_id,
        rule_id=alert.rule_id, severity=Severity(wf.severity).label, title=alert.title,
        status=wf.status, engine_state=alert.state, raised_at=wf.raised_at,
        updated_at=alert.updated_at, simulated=alert.simulated, assignee_id=wf.assignee_id,
        escalation_level=wf.escalation_level,
        tier=steps[min(wf.escalation_level, len(steps) - 1)].tier,
        next_escalation_at=wf.next_escalation_at, snoozed_until=wf.snoozed_until,
        acknowledged_at=wf.acknowledged_at, acknowledged_by=wf.acknowledged_by,
        resolved_at=wf.resolved_at, resolved_by=wf.resolved_by, why=explanation(alert),
    )
    if full:
        acts = db.scalars(select(AlertActivity).where(AlertActivity.alert_id == wf.alert_id)
                          .order_by(AlertActivity.id))
        out.history = [ActivityOut(id=a.id, kind=a.kind, at=a.at, actor=a.actor, detail=a.detail)
                       for a in acts]
        dels = db.scalars(select(AlertDelivery).where(AlertDelivery.alert_id == wf.alert_id)
                          .order_by(AlertDelivery.id))
        out.deliveries = [DeliveryOut(activity_id=d.activity_id, channel=d.channel,
                                      recipient=d.recipient, status=d.status,
                                      attempts=d.attempts, sent_at=d.sent_at) for d in dels]
    return out
