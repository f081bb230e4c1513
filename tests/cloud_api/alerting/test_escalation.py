"""Escalation with a fake clock, and exactly once with two concurrent escalators."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cloud_api.alerting.clock import FakeClock
from cloud_api.alerting.escalation import Escalator
from cloud_api.alerting.lifecycle import Actor, acknowledge, get_workflow
from cloud_api.alerting.models import AlertActivity
from cloud_api.alerting.policy import EscalationPolicy, EscalationStep, store_policy
from cloud_api.db.engine import session_factory
from tests.cloud_api.alerting.helpers import gateway_alert, store
from tests.cloud_api.factories import T0
from vitals.alerts import Severity


def escalations(engine: Engine, alert_id: str) -> list[tuple[str, str]]:
    with Session(engine) as db:
        rows = db.scalars(select(AlertActivity).where(AlertActivity.alert_id == alert_id,
                                                      AlertActivity.kind == "escalated")
                          .order_by(AlertActivity.id))
        return [(a.detail["tier"], a.actor) for a in rows]


def test_default_policy_escalates_on_time_and_stops_at_the_last_tier(engine: Engine) -> None:
    urgent, warning = gateway_alert(), gateway_alert(severity=Severity.WARNING)
    store(engine, urgent, warning)
    clock = FakeClock(T0 + timedelta(seconds=599))
    esc = Escalator(session_factory(engine), clock)
    assert esc.run_once() == 0
    clock.advance(1)  # 10 min after raised_at
    assert esc.run_once() == 1
    assert escalations(engine, urgent.alert_id) == [("physician", "system")]
    clock.advance(1199)
    assert esc.run_once() == 0
    clock.advance(1)  # 30 min
    assert esc.run_once() == 1
    clock.advance(86400)
    assert esc.run_once() == 0
    assert escalations(engine, urgent.alert_id) == [("physician", "system"),
                                                    ("partner-hospital", "system")]
    assert escalations(engine, warning.alert_id) == []  # below the policy's min severity


def test_acknowledged_alerts_do_not_escalate_and_policy_is_per_org(engine: Engine) -> None:
    sessions = session_factory(engine)
    with sessions.begin() as db:
        store_policy(db, 1, EscalationPolicy(min_severity=Severity.WARNING, steps=[
            EscalationStep(tier="on-call", after_s=0), EscalationStep(tier="doc", after_s=60)]),
            "test", T0)
    a, b = gateway_alert(severity=Severity.WARNING), gateway_alert(severity=Severity.WARNING)
    store(engine, a, b)
    with sessions.begin() as db:
        acknowledge(db, get_workflow(db, a.alert_id), Actor("demo", 1), T0)
    clock = FakeClock(T0 + timedelta(seconds=60))
    assert Escalator(sessions, clock).run_once() == 1
    assert escalations(engine, a.alert_id) == []
    assert escalations(engine, b.alert_id) == [("doc", "system")]


def test_two_concurrent_escalators_escalate_exactly_once(engine: Engine) -> None:
    alerts = [gateway_alert(at=T0 + timedelta(milliseconds=i)) for i in range(10)]
    store(engine, *alerts)
    clock = FakeClock(T0 + timedelta(minutes=11))
    workers = [Escalator(session_factory(engine), clock) for _ in range(2)]
    # Both read the same due list before either writes: the worst case for a race.
    due = [w.due() for w in workers]
    assert due[0] == due[1] and len(due[0]) == 10
    counts: list[int] = []
    barrier = threading.Barrier(2)

    def run(w: Escalator) -> None:
        barrier.wait()
        counts.append(w.run_once())

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(counts) == 10
    for a in alerts:
        assert escalations(engine, a.alert_id) == [("physician", "system")]


def test_a_stale_escalator_loses_the_compare_and_set(engine: Engine) -> None:
    """Worker B read the alert before worker A escalated it; B's write must not land."""
    from cloud_api.alerting.lifecycle import SYSTEM, IllegalTransition, escalate

    alert = gateway_alert()
    store(engine, alert)
    sessions = session_factory(engine)
    now = T0 + timedelta(minutes=11)
    with sessions() as db_b:
        stale = get_workflow(db_b, alert.alert_id)
        db_b.commit()  # B's snapshot is kept (expire_on_commit=False): version 0, level 0
        with sessions.begin() as db_a:
            escalate(db_a, get_workflow(db_a, alert.alert_id), SYSTEM, now, expected_level=0)
        with pytest.raises(IllegalTransition, match="changed meanwhile"):
            escalate(db_b, stale, SYSTEM, now, expected_level=0)
        db_b.rollback()
    assert escalations(engine, alert.alert_id) == [("physician", "system")]
