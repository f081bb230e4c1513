"""The alert lifecycle: raised → delivered → acknowledged → resolved, plus assign,
comment, snooze and escalate. Every transition is one compare-and-set on
``alert_workflow.version``, one ``alert_activity`` row (timestamped, attributed) and one
audit row, in the caller's transaction. Illegal transitions raise
:class:`IllegalTransition` (the API answers 409).
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from cloud_api.alerting.models import AlertActivity, AlertWorkflow, WorkflowStatus
from cloud_api.alerting.policy import policy_for
from cloud_api.db.audit import record
from cloud_api.db.models import AlertRow, Patient
from edge_rules.engine import severities, tier_policy
from edge_rules.model import URGENT_SNOOZE_CAP_S
from edge_rules.ruleset import RuleSet, load_ruleset
from vitals.alerts import Severity

S = WorkflowStatus
# Rules the engine does not know (cloud rules): same cap policy as edge_rules' tiers.
OTHER_MAX_SNOOZE_S = 4 * 3600.0
# Activity kinds that notify recipients (the rest are history and SSE only).
NOTIFY_KINDS = frozenset({"raised", "escalated", "acknowledged", "resolved"})


class IllegalTransition(Exception):
    """The alert is not in a state that allows this action (HTTP 409)."""


class UnknownAlert(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class Actor:
    name: str  # username, "system", "gateway:<id>"
    user_id: int | None = None


SYSTEM = Actor("system")


def add_activity(db: Session, wf: AlertWorkflow, kind: str, actor: Actor, at: datetime,
                 detail: dict[str, Any] | None = None) -> AlertActivity:
    """Append one history row (its id is the SSE event id) and the matching audit row."""
    if db.get_bind().dialect.name == "postgresql":
        # Serialise activity writers so ids become visible in id order: the SSE stream
        # reads "id > last seen", and a sequence gap filled later would be skipped.
        db.execute(text("SELECT pg_advisory_xact_lock(4242)"))
    act = AlertActivity(alert_id=wf.alert_id, org_id=wf.org_id, patient_id=wf.patient_id,
                        kind=kind, at=at, actor=actor.name, actor_id=actor.user_id,
                        detail=detail or {}, dispatched=kind not in NOTIFY_KINDS)
    db.add(act)
    db.flush()
    record(db, actor.name, f"alert.{kind}", actor_id=actor.user_id, patient_id=wf.patient_id,
           detail={"alert_id": wf.alert_id, "activity_id": act.id, **(detail or {})})
    return act


def explanation(alert: AlertRow) -> dict[str, Any]:
    """Why it fired: rule id and version, inputs, thresholds, source, origin."""
    return explain(alert.body)


def explain(body: dict[str, Any]) -> dict[str, Any]:
    """:func:`explanation` from the alert row's stored body."""
    return {k: body.get(k) for k in ("rule_id", "rule_version", "explanation", "inputs",
                                      "thresholds", "source", "origin")}


def open_workflow(db: Session, alert: AlertRow, at: datetime, actor: Actor) -> AlertWorkflow:
    """Start the lifecycle of a stored alert row (idempotent: returns the existing one)."""
    existing = db.get(AlertWorkflow, alert.alert_id)
    if existing is not None:
        return existing
    org_id = db.scalar(select(Patient.org_id).where(Patient.id == alert.patient_id))
    if org_id is None:
        raise UnknownAlert(f"patient {alert.patient_id!r} of alert {alert.alert_id} is unknown")
    policy = policy_for(db, org_id)
    wf = AlertWorkflow(
        alert_id=alert.alert_id, org_id=org_id, patient_id=alert.patient_id, status=S.RAISED,
        severity=alert.severity, raised_at=alert.raised_at, escalation_level=0,
        next_escalation_at=policy.due_at(alert.raised_at, alert.severity, 0),
        snoozed_until=_active_snooze(db, alert, at), version=0,
    )
    db.add(wf)
    db.flush()
    add_activity(db, wf, "raised", actor, at, {
        "severity": Severity(alert.severity).label, "title": alert.title,
        "tier": policy.steps[0].tier, "simulated": alert.simulated, **explanation(alert),
        **({"held_by_snooze_until": wf.snoozed_until.isoformat()} if wf.snoozed_until else {}),
    })
    return wf


def _active_snooze(db: Session, alert: AlertRow, at: datetime) -> datetime | None:
    """A snooze set on an earlier alert of the same patient and rule still covers this one
    if it was set at this severity or higher (a worse tier is never held)."""
    rows = db.execute(
        select(AlertActivity.detail).join(AlertRow, AlertRow.alert_id == AlertActivity.alert_id)
        .where(AlertActivity.patient_id == alert.patient_id, AlertActivity.kind == "snoozed",
               AlertRow.rule_id == alert.rule_id)
        .order_by(AlertActivity.id.desc()).limit(1)
    ).scalars().all()
    for detail in rows:
        until = datetime.fromisoformat(detail["until"])
        if until > at and detail["severity_value"] >= alert.severity:
            return until
    return None


def _transition(db: Session, wf: AlertWorkflow, allowed: Iterable[str], action: str,
                **values: Any) -> None:
    if wf.status not in allowed:
        raise IllegalTransition(f"cannot {action} an alert that is {wf.status}")
    done = db.execute(
        update(AlertWorkflow)
        .where(AlertWorkflow.alert_id == wf.alert_id, AlertWorkflow.version == wf.version)
        .values(version=wf.version + 1, **values)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if done != 1:
        raise IllegalTransition(f"the alert changed meanwhile; reload and retry {action}")
    db.refresh(wf)


def get_workflow(db: Session, alert_id: str) -> AlertWorkflow:
    wf = db.get(AlertWorkflow, alert_id)
    if wf is None:
        raise UnknownAlert(alert_id)
    return wf


def acknowledge(db: Session, wf: AlertWorkflow, actor: Actor, at: datetime) -> AlertActivity:
    _transition(db, wf, S.OPEN, "acknowledge", status=S.ACKNOWLEDGED, acknowledged_at=at,
                acknowledged_by=actor.name, next_escalation_at=None)
    return add_activity(db, wf, "acknowledged", actor, at)


def resolve(db: Session, wf: AlertWorkflow, actor: Actor, at: datetime,
            reason: str = "") -> AlertActivity:
    _transition(db, wf, (*S.OPEN, S.ACKNOWLEDGED), "resolve", status=S.RESOLVED,
                resolved_at=at, resolved_by=actor.name, next_escalation_at=None)
    return add_activity(db, wf, "resolved", actor, at, {"reason": reason} if reason else None)


def mark_delivered(db: Session, wf: AlertWorkflow, at: datetime,
                   detail: dict[str, Any]) -> AlertActivity | None:
    """First successful delivery moves raised → delivered; later ones only log history."""
    if wf.status == S.RAISED:
        # Acknowledged or delivered meanwhile: fine, the history still records it.
        with suppress(IllegalTransition):
            _transition(db, wf, (S.RAISED,), "deliver", status=S.DELIVERED)
    return add_activity(db, wf, "delivered", SYSTEM, at, detail)


def assign(db: Session, wf: AlertWorkflow, actor: Actor, at: datetime,
           assignee_id: int | None, assignee: str | None) -> AlertActivity:
    _transition(db, wf, (*S.OPEN, S.ACKNOWLEDGED), "assign", assignee_id=assignee_id)
    return add_activity(db, wf, "assigned", actor, at, {"assignee": assignee,
                                                         "assignee_id": assignee_id})


def comment(db: Session, wf: AlertWorkflow, actor: Actor, at: datetime,
            body: str) -> AlertActivity:
    return add_activity(db, wf, "commented", actor, at, {"text": body})


@cache
def _default_rules() -> RuleSet:
    return load_ruleset()


def snooze(db: Session, wf: AlertWorkflow, alert: AlertRow, actor: Actor, at: datetime,
           duration_s: float, ruleset: RuleSet | None = None) -> AlertActivity:
    """Hold re-notification and escalation of this rule for this patient, up to this
    severity, for at most the tier's cap (urgent: 15 min, as edge_rules enforces)."""
    if duration_s <= 0:
        raise IllegalTransition("snooze duration must be positive")
    rs = ruleset or _default_rules()
    severity = Severity(wf.severity)
    direction = "any"
    if rs.has_rule(alert.rule_id):
        rule = rs.rule(alert.rule_id)
        direction = rule.direction.value
        tier = severity if severity in severities(rule) else max(severities(rule))
        cap = tier_policy(rule, tier).max_snooze_s
    else:
        cap = URGENT_SNOOZE_CAP_S if severity >= Severity.URGENT else OTHER_MAX_SNOOZE_S
    granted = min(duration_s, cap)
    until = at + timedelta(seconds=granted)
    _transition(db, wf, (*S.OPEN, S.ACKNOWLEDGED), "snooze", snoozed_until=until)
    return add_activity(db, wf, "snoozed", actor, at, {
        "rule_id": alert.rule_id, "direction": direction, "severity": severity.label,
        "severity_value": int(severity), "until": until.isoformat(),
        "requested_s": duration_s, "granted_s": granted, "capped": granted < duration_s,
    })


def escalate(db: Session, wf: AlertWorkflow, actor: Actor, at: datetime,
             *, expected_level: int | None = None) -> AlertActivity:
    """Move to the next tier. The escalation loop passes ``expected_level`` so that of two
    workers reading the same row only one wins the compare-and-set."""
    policy = policy_for(db, wf.org_id)
    level = wf.escalation_level if expected_level is None else expected_level
    if wf.escalation_level != level:
        raise IllegalTransition("already escalated")
    if level + 1 >= len(policy.steps):
        raise IllegalTransition(f"already at the last tier ({policy.steps[-1].tier})")
    allowed = (*S.OPEN, S.ACKNOWLEDGED) if actor is not SYSTEM else S.OPEN
    _transition(db, wf, allowed, "escalate", escalation_level=level + 1,
                next_escalation_at=policy.due_at(wf.raised_at, wf.severity, level + 1))
    return add_activity(db, wf, "escalated", actor, at, {
        "from_tier": policy.steps[level].tier, "tier": policy.steps[level + 1].tier,
        "level": level + 1, "manual": actor is not SYSTEM,
    })
