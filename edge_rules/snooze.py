"""Snoozing an alert: scoped to one (patient, rule, direction), capped, never masking worse.

A snooze holds events of its rule up to the severity it was set at; a more severe tier still
fires at once. The requested duration is capped at the tier's ``max_snooze`` (urgent tiers at
most 15 min, enforced when the rule set is loaded). Pure: returns a new state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from edge_rules.engine import severities, tier_policy
from edge_rules.overrides import PatientContext, effective_ruleset
from edge_rules.ruleset import RuleSet
from edge_rules.state import EngineState, Snooze, StateWriter
from vitals.alerts import Severity


class SnoozeError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class SnoozeGrant:
    rule_id: str
    direction: str
    severity: Severity
    until: datetime
    capped: bool  # True when the request was longer than the tier allows


def snooze(
    state: EngineState,
    *,
    patient: str,
    rule_id: str,
    duration_s: float,
    now: datetime,
    ruleset: RuleSet,
    context: PatientContext | None = None,
    severity: Severity | None = None,
) -> tuple[EngineState, SnoozeGrant]:
    """Snooze ``rule_id`` for ``patient``. ``severity`` defaults to the open alert's severity
    (or the rule's lowest tier when none is open); more severe tiers are never covered."""
    if duration_s <= 0:
        raise SnoozeError("snooze duration must be positive")
    rs = effective_ruleset(ruleset, context)
    if not rs.has_rule(rule_id):
        raise SnoozeError(f"no rule {rule_id!r}")
    rule = rs.rule(rule_id)
    tiers = severities(rule)
    current = state.track(patient, rule_id)
    if severity is None:
        open_sev = current.alert.severity if current and current.alert else None
        severity = Severity(open_sev) if open_sev is not None else min(tiers)
    if severity not in tiers:
        raise SnoozeError(f"rule {rule_id!r} has no {severity.label} tier")
    cap = tier_policy(rule, severity).max_snooze_s
    granted = min(duration_s, cap)
    until = now + timedelta(seconds=granted)
    writer = StateWriter(state)
    track = writer.write(patient, rule_id)
    track.snooze = Snooze(int(severity), until, rule.direction.value, now)
    grant = SnoozeGrant(rule_id, rule.direction.value, severity, until, granted < duration_s)
    return writer.new, grant


def unsnooze(state: EngineState, *, patient: str, rule_id: str) -> EngineState:
    if state.track(patient, rule_id) is None:
        return state
    writer = StateWriter(state)
    track = writer.write(patient, rule_id)
    if track.snooze is not None and track.alert is not None and track.alert.emitted:
        track.alert.renotify = True  # re-send on the next evaluate if still active
    track.snooze = None
    return writer.new
