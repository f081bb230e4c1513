"""``GET /api/v1/audit``: the audit trail of the caller's organisation (org admins)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import or_, select

from cloud_api.api.access_schemas import AuditOut
from cloud_api.api.deps import CurrentUser, DbSession, ReadAudit
from cloud_api.api.guards import require
from cloud_api.db.audit import record
from cloud_api.db.errors import Invalid
from cloud_api.db.models import AuditRow, Patient, Role, User

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get("", response_model=list[AuditOut],
            responses={403: {"description": "not an org admin"}})
def audit_log(
    user: CurrentUser, db: DbSession, recorder: ReadAudit,
    patient: Annotated[str | None, Query(max_length=64)] = None,
    actor: Annotated[str | None, Query(max_length=64, description="username")] = None,
    action: Annotated[str | None, Query(max_length=64, description="e.g. readings.read")] = None,
    since: Annotated[datetime | None, Query(description="at ≥ since (ISO 8601 with zone)")] = None,
    until: Annotated[datetime | None, Query(description="at < until")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before_id: Annotated[int | None, Query(ge=1, le=2**62, description="page: id < this")] = None,
) -> list[AuditOut]:
    """Newest first. Rows about the organisation's patients or by its users. The log is
    append-only: the database refuses UPDATE and DELETE on it (trigger). Reads audited
    before this request are included (their write-behind batch is flushed first)."""
    require(user, Role.ORG_ADMIN)
    recorder.flush()
    org_patients = select(Patient.id).where(Patient.org_id == user.org_id)
    org_users = select(User.id).where(User.org_id == user.org_id)
    query = select(AuditRow).where(or_(AuditRow.patient_id.in_(org_patients),
                                       AuditRow.actor_id.in_(org_users)))
    if patient is not None:
        query = query.where(AuditRow.patient_id == patient)
    if actor is not None:
        query = query.where(AuditRow.actor == actor)
    if action is not None:
        query = query.where(AuditRow.action == action)
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise Invalid(f"{name} must carry a time zone")
    if since is not None:
        query = query.where(AuditRow.at >= since)
    if until is not None:
        query = query.where(AuditRow.at < until)
    if before_id is not None:
        query = query.where(AuditRow.id < before_id)
    rows = db.scalars(query.order_by(AuditRow.id.desc()).limit(limit)).all()
    record(db, user.username, "audit.read", actor_id=user.id,
           detail={"patient": patient, "actor": actor, "action": action, "count": len(rows)})
    db.commit()
    return [AuditOut(id=r.id, at=r.at, actor=r.actor, action=r.action, patient_id=r.patient_id,
                     detail=r.detail) for r in rows]
