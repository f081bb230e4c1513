"""The audit trail: append-only rows saying who did what to which patient, and when.

Only :func:`record` writes here; nothing in the code base updates or deletes audit
rows (on PostgreSQL, revoke UPDATE/DELETE on ``audit_log`` from the app role as well).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from cloud_api.db.models import AuditRow
from vitals.readings import now_utc


def record(
    db: Session, actor: str, action: str, *, actor_id: int | None = None,
    patient_id: str | None = None, detail: dict[str, Any] | None = None,
) -> None:
    db.add(AuditRow(
        at=now_utc(), actor=actor, actor_id=actor_id, action=action,
        patient_id=patient_id, detail=detail or {},
    ))
