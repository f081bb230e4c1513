"""Snooze: scoped to (rule, direction), capped, never masking a more severe tier."""

from __future__ import annotations

from datetime import datetime

import pytest

from edge_rules.snooze import SnoozeError, snooze, unsnooze
from tests.edge_rules.rules_helpers import DEFAULTS, Driver, P, at, events, glucose
from vitals.alerts import Severity


def snoozed(
    d: Driver, rule_id: str, minutes: float, now: datetime, severity: Severity | None = None
) -> None:
    d.state, _ = snooze(
        d.state,
        patient=P,
        rule_id=rule_id,
        duration_s=minutes * 60,
        now=now,
        ruleset=DEFAULTS,
        severity=severity,
    )


def test_urgent_snooze_is_capped_at_15_minutes() -> None:
    d = Driver()
    d.feed(glucose(at(0), 50, cgm=False))
    _, grant = snooze(
        d.state, patient=P, rule_id="glucose_low", duration_s=3600, now=at(1), ruleset=DEFAULTS
    )
    assert grant.severity is Severity.URGENT and grant.capped
    assert grant.until == at(16) and grant.direction == "below"


def test_warning_snooze_holds_repeats_and_same_tier_then_renotifies() -> None:
    d = Driver()
    d.feed(glucose(at(0), 65, cgm=False))
    snoozed(d, "glucose_low", 30, at(1))
    d.feed(glucose(at(10), 60, cgm=False))
    assert d.tick(at(30)) == []
    (again,) = d.tick(at(31))  # snooze over, still low: re-notify
    assert again.state.value == "updated" and again.alert_id == d.alerts[0].alert_id


def test_snooze_never_masks_a_more_severe_tier() -> None:
    d = Driver()
    d.feed(glucose(at(0), 65, cgm=False))
    snoozed(d, "glucose_low", 60, at(1))
    (urgent,) = d.feed(glucose(at(5), 50, cgm=False))
    assert urgent.severity is Severity.URGENT


def test_snooze_is_scoped_to_its_rule() -> None:
    d = Driver()
    snoozed(d, "glucose_high", 60, at(0))  # snoozing highs does not silence lows
    (low,) = d.feed(glucose(at(1), 60, cgm=False))
    assert low.rule_id == "glucose_low"


def test_a_snooze_set_before_an_alert_holds_its_first_event() -> None:
    d = Driver()
    snoozed(d, "glucose_low", 20, at(0))  # lowest tier (warning) by default
    assert d.feed(glucose(at(1), 65, cgm=False)) == []
    (late,) = d.tick(at(20))
    assert late.state.value == "open" and "snoozed until" in late.explanation


def test_clears_go_through_a_snooze() -> None:
    d = Driver()
    d.feed(glucose(at(0), 65, cgm=False))
    snoozed(d, "glucose_low", 60, at(1))
    d.feed(glucose(at(5), 85, cgm=False))
    (cleared,) = d.feed(glucose(at(20), 90, cgm=False))
    assert cleared.state.value == "cleared"


def test_unsnooze_renotifies_an_open_alert() -> None:
    d = Driver()
    d.feed(glucose(at(0), 65, cgm=False))
    snoozed(d, "glucose_low", 60, at(1))
    d.state = unsnooze(d.state, patient=P, rule_id="glucose_low")
    assert events(d.tick(at(2))) == [("glucose_low", "warning", "updated")]


@pytest.mark.parametrize(
    ("rule_id", "seconds", "severity", "match"),
    [
        ("nope", 60, None, "no rule"),
        ("glucose_low", 0, None, "positive"),
        ("glucose_low", 60, Severity.INFO, "no info tier"),
    ],
)
def test_bad_snooze_requests(
    rule_id: str, seconds: float, severity: Severity | None, match: str
) -> None:
    with pytest.raises(SnoozeError, match=match):
        snooze(
            Driver().state,
            patient=P,
            rule_id=rule_id,
            duration_s=seconds,
            now=at(0),
            ruleset=DEFAULTS,
            severity=severity,
        )
