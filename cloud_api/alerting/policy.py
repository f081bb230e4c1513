"""Escalation policy per organisation: who is told, and after how long unacknowledged.

Default (clinical.md §2.4: re-raise until acknowledged, then the next contact after a
timeout): urgent alerts go to the ``nurse`` tier at once, to ``physician`` after 10 min
and to ``partner-hospital`` after 30 min, counted from when the alert was raised.
Alerts below ``min_severity`` only ever reach the first tier.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from pydantic import BaseModel, Field, field_validator
from sqlalchemy.orm import Session

from cloud_api.alerting.models import EscalationPolicyRow
from vitals.alerts import Severity


class EscalationStep(BaseModel):
    tier: str = Field(min_length=1, max_length=64, examples=["nurse"])
    after_s: float = Field(ge=0, description="seconds after the alert was raised")


class EscalationPolicy(BaseModel):
    min_severity: Severity = Severity.URGENT
    steps: list[EscalationStep] = Field(min_length=1, max_length=10)

    @field_validator("steps")
    @classmethod
    def _ordered(cls, steps: list[EscalationStep]) -> list[EscalationStep]:
        if steps[0].after_s != 0:
            raise ValueError("the first step must start at after_s = 0")
        if any(b.after_s <= a.after_s for a, b in pairwise(steps)):
            raise ValueError("steps must have strictly increasing after_s")
        return steps

    def due_at(self, raised_at: datetime, severity: int, level: int) -> datetime | None:
        """When the alert at ``level`` should move to ``level + 1`` (None: never)."""
        if severity < self.min_severity or level + 1 >= len(self.steps):
            return None
        return raised_at + timedelta(seconds=self.steps[level + 1].after_s)

    def tiers_up_to(self, level: int) -> list[str]:
        return [s.tier for s in self.steps[: level + 1]]


DEFAULT_POLICY = EscalationPolicy(steps=[
    EscalationStep(tier="nurse", after_s=0),
    EscalationStep(tier="physician", after_s=600),
    EscalationStep(tier="partner-hospital", after_s=1800),
])


def policy_for(db: Session, org_id: int) -> EscalationPolicy:
    row = db.get(EscalationPolicyRow, org_id)
    if row is None:
        return DEFAULT_POLICY
    return EscalationPolicy(min_severity=Severity(row.min_severity),
                            steps=[EscalationStep(**s) for s in row.steps])


def store_policy(db: Session, org_id: int, policy: EscalationPolicy, by: str,
                 at: datetime) -> None:
    steps: list[dict[str, Any]] = [s.model_dump() for s in policy.steps]
    row = db.get(EscalationPolicyRow, org_id)
    if row is None:
        db.add(EscalationPolicyRow(org_id=org_id, min_severity=int(policy.min_severity),
                                   steps=steps, updated_at=at, updated_by=by))
    else:
        row.min_severity, row.steps = int(policy.min_severity), steps
        row.updated_at, row.updated_by = at, by

