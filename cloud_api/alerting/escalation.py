"""The escalation loop: unacknowledged alerts move to the next tier when due.

Safe with many replicas: each escalation is a compare-and-set on the workflow row's
``version`` (and expected level), so of two workers that read the same due alert exactly
one escalates it; the loser gets :class:`IllegalTransition` and moves on.
"""

from __future__ import annotations

import logging

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from cloud_api.alerting.clock import Clock
from cloud_api.alerting.lifecycle import SYSTEM, IllegalTransition, escalate
from cloud_api.alerting.models import AlertWorkflow, WorkflowStatus

log = logging.getLogger(__name__)


class Escalator:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock) -> None:
        self.sessions, self.clock = sessions, clock

    def due(self) -> list[tuple[str, int]]:
        now = self.clock.now()
        with self.sessions() as db:
            rows = db.execute(
                select(AlertWorkflow.alert_id, AlertWorkflow.escalation_level).where(
                    AlertWorkflow.status.in_(WorkflowStatus.OPEN),
                    AlertWorkflow.next_escalation_at <= now,
                    or_(AlertWorkflow.snoozed_until.is_(None), AlertWorkflow.snoozed_until <= now),
                ).order_by(AlertWorkflow.next_escalation_at)).all()
        return [(r[0], r[1]) for r in rows]

    def run_once(self) -> int:
        """Escalate every due alert by one tier; returns how many this worker escalated."""
        done = 0
        for alert_id, level in self.due():
            now = self.clock.now()
            try:
                with self.sessions.begin() as db:
                    wf = db.get(AlertWorkflow, alert_id)
                    if wf is None or wf.next_escalation_at is None or wf.next_escalation_at > now:
                        continue
                    escalate(db, wf, SYSTEM, now, expected_level=level)
                done += 1
            except IllegalTransition as exc:
                log.debug("escalation of %s skipped: %s", alert_id, exc)
        return done
