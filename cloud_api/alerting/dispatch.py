"""Delivery of alert events to recipients: exactly one send per (event, recipient, channel).

For each undispatched notifying event (raised, escalated, acknowledged, resolved) the
dispatcher works out the recipients from the organisation's escalation tiers, and for each
one first *claims* the key by inserting its ``alert_deliveries`` row (unique on activity,
recipient, channel). Whoever inserted the row sends; everyone else skips it. The claimer
retries with jittered exponential backoff, logging every attempt on the row. A claim left
by a crashed worker is taken over after ``lease_s`` (then a receiver may see a repeat with
the same ``X-HomeRPM-Delivery`` key: the only at-least-once window).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from cloud_api.alerting.clock import Clock
from cloud_api.alerting.lifecycle import NOTIFY_KINDS, explanation, mark_delivered
from cloud_api.alerting.models import (
    AlertActivity,
    AlertDelivery,
    AlertWorkflow,
    NotificationTarget,
    WorkflowStatus,
)
from cloud_api.alerting.notify import DeliveryFailed, Notification, Notifier
from cloud_api.alerting.policy import policy_for
from cloud_api.db.models import AlertRow
from cloud_api.db.upsert import insert_ignore
from vitals.alerts import Severity

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 5
    base_s: float = 0.5
    max_s: float = 30.0

    def delay(self, attempt: int, rng: Callable[[], float]) -> float:
        """Equal jitter: half fixed, half random, so retries of many workers spread out."""
        d = min(self.max_s, self.base_s * 2.0 ** attempt)
        return d / 2 + rng() * d / 2


class Dispatcher:
    def __init__(
        self, sessions: sessionmaker[Session], notifiers: Mapping[str, Notifier], clock: Clock,
        worker_id: str, *, retry: RetryPolicy | None = None, lease_s: float = 120.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.sessions, self.notifiers, self.clock = sessions, notifiers, clock
        self.worker_id, self.retry, self.lease_s = worker_id, retry or RetryPolicy(), lease_s
        self._sleep, self._rng = sleep, rng

    async def run_once(self, limit: int = 100) -> int:
        """Handle pending events; returns how many were finished."""
        pending = await asyncio.to_thread(self._pending, limit)
        done = 0
        for activity_id in pending:
            done += await self.dispatch(activity_id)
        return done

    def _pending(self, limit: int) -> list[int]:
        with self.sessions() as db:
            return list(db.scalars(
                select(AlertActivity.id).where(AlertActivity.dispatched.is_(False))
                .order_by(AlertActivity.id).limit(limit)))

    async def dispatch(self, activity_id: int) -> bool:
        plan = await asyncio.to_thread(self._plan, activity_id)
        if plan is None:
            return False  # held by a snooze: try again later
        for n in plan:
            await self._deliver(activity_id, n)
        return await asyncio.to_thread(self._finish, activity_id, plan)

    def _plan(self, activity_id: int) -> list[Notification] | None:
        with self.sessions() as db:
            act = db.get(AlertActivity, activity_id)
            wf = db.get(AlertWorkflow, act.alert_id) if act else None
            alert = db.get(AlertRow, act.alert_id) if act else None
            if act is None or wf is None or alert is None or act.kind not in NOTIFY_KINDS:
                return []
            now = self.clock.now()
            if act.kind == "raised" and wf.snoozed_until and wf.snoozed_until > now:
                return None
            if act.kind == "raised" and act.detail.get("held_by_snooze_until") \
                    and wf.status not in WorkflowStatus.OPEN:
                return []  # handled while held: nobody needs the page any more
            policy = policy_for(db, wf.org_id)
            if act.kind == "raised":
                tiers = policy.tiers_up_to(0)
            elif act.kind == "escalated":
                tiers = [act.detail["tier"]]
            else:
                tiers = policy.tiers_up_to(wf.escalation_level)
            targets = db.scalars(select(NotificationTarget).where(
                NotificationTarget.org_id == wf.org_id, NotificationTarget.enabled.is_(True),
                NotificationTarget.tier.in_(tiers),
                NotificationTarget.min_severity <= wf.severity,
            ).order_by(NotificationTarget.id)).all()
            payload = _payload(act, wf, alert)
            return [
                Notification(f"{act.id}:target-{t.id}:{t.channel}", t.channel, t.address,
                             t.secret, {**payload, "tier": t.tier})
                for t in targets if t.channel in self.notifiers
            ]

    async def _deliver(self, activity_id: int, n: Notification) -> None:
        attempts = await asyncio.to_thread(self._claim, activity_id, n)
        if attempts is None:
            return  # someone else owns it, or it is finished
        notifier = self.notifiers[n.channel]
        while True:
            try:
                await notifier.send(n)
            except DeliveryFailed as exc:
                attempts += 1
                final = not exc.retryable or attempts >= self.retry.max_attempts
                await asyncio.to_thread(self._record, activity_id, n, False, exc.reason, final)
                log.warning("delivery %s attempt %d failed: %s", n.key, attempts, exc.reason)
                if final:
                    return
                await self._sleep(self.retry.delay(attempts - 1, self._rng))
            else:
                await asyncio.to_thread(self._record, activity_id, n, True, "", True)
                return

    def _claim(self, activity_id: int, n: Notification) -> int | None:
        """Insert the delivery row (the claim) or take over an expired claim; the number of
        attempts already made, or None when this worker must not send."""
        _, recipient, channel = n.key.split(":")
        now = self.clock.now()
        with self.sessions.begin() as db:
            fresh = insert_ignore(db, AlertDelivery.__table__, [{  # type: ignore[arg-type]
                "activity_id": activity_id, "recipient": recipient, "channel": channel,
                "alert_id": n.payload["alert_id"], "status": "claimed",
                "claimed_by": self.worker_id, "claimed_at": now, "attempts": 0, "log": [],
            }])
            if fresh:
                return 0
            row = db.scalar(select(AlertDelivery).where(
                AlertDelivery.activity_id == activity_id, AlertDelivery.recipient == recipient,
                AlertDelivery.channel == channel))
            if row is None or row.status != "claimed" or \
                    row.claimed_at > now - timedelta(seconds=self.lease_s):
                return None
            taken = db.execute(
                update(AlertDelivery)
                .where(AlertDelivery.id == row.id, AlertDelivery.claimed_by == row.claimed_by,
                       AlertDelivery.claimed_at == row.claimed_at,
                       AlertDelivery.status == "claimed")
                .values(claimed_by=self.worker_id, claimed_at=now)
            ).rowcount  # type: ignore[attr-defined]
            return row.attempts if taken == 1 else None

    def _record(self, activity_id: int, n: Notification, ok: bool, error: str,
                final: bool) -> None:
        _, recipient, channel = n.key.split(":")
        now = self.clock.now()
        with self.sessions.begin() as db:
            row = db.scalar(select(AlertDelivery).where(
                AlertDelivery.activity_id == activity_id, AlertDelivery.recipient == recipient,
                AlertDelivery.channel == channel, AlertDelivery.claimed_by == self.worker_id))
            if row is None:
                return  # our claim was taken over; the new owner records its own attempts
            row.attempts += 1
            row.log = [*row.log, {"at": now.isoformat(), "ok": ok, "error": error,
                                  "worker": self.worker_id}]
            row.claimed_at = now  # renew the lease while we are still trying
            if ok:
                row.status, row.sent_at = "sent", now
                act = db.get(AlertActivity, activity_id)
                wf = db.get(AlertWorkflow, n.payload["alert_id"])
                if act is not None and wf is not None and act.kind in ("raised", "escalated"):
                    mark_delivered(db, wf, now, {
                        "channel": channel, "recipient": recipient, "event_id": activity_id,
                        "tier": n.payload["tier"]})
            elif final:
                row.status = "failed"

    def _finish(self, activity_id: int, plan: list[Notification]) -> bool:
        """Mark the event dispatched once every planned delivery is sent or failed."""
        with self.sessions.begin() as db:
            states = db.scalars(select(AlertDelivery.status)
                                .where(AlertDelivery.activity_id == activity_id)).all()
            if len(states) < len(plan) or any(s == "claimed" for s in states):
                return False
            act = db.get(AlertActivity, activity_id)
            if act is not None:
                act.dispatched = True
            return True


def _payload(act: AlertActivity, wf: AlertWorkflow, alert: AlertRow) -> dict[str, Any]:
    """What every channel gets: the event, the alert and why it fired; no names."""
    return {
        "event": act.kind, "event_id": act.id, "at": act.at.isoformat(), "actor": act.actor,
        "alert_id": wf.alert_id, "patient_id": wf.patient_id, "rule_id": alert.rule_id,
        "severity": Severity(wf.severity).label, "title": alert.title, "status": wf.status,
        "escalation_level": wf.escalation_level, "simulated": alert.simulated,
        "why": explanation(alert), "detail": act.detail,
    }
