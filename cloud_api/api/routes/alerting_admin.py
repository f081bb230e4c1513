"""Escalation policy, notification targets (org admins) and the weekly worklist (staff)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field
from sqlalchemy import select

from cloud_api.alerting.models import NotificationTarget, WorklistItem
from cloud_api.alerting.policy import EscalationPolicy, policy_for, store_policy
from cloud_api.api.access_schemas import IntId
from cloud_api.api.deps import CurrentUser, DbSession
from cloud_api.db.access import visible_patients
from cloud_api.db.audit import record
from cloud_api.db.models import Patient, Role, User
from vitals.alerts import Severity
from vitals.readings import now_utc

router = APIRouter(prefix="/api/v1", tags=["alerting"])
_STAFF = {Role.ORG_ADMIN.value, Role.CLINICIAN.value, Role.NURSE.value}


def _admin(user: User) -> None:
    if user.role != Role.ORG_ADMIN.value:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "organisation admins only")


def _staff(user: User) -> None:
    if user.role not in _STAFF:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "clinical staff only")


@router.get("/escalation-policy", response_model=EscalationPolicy)
def get_policy(user: CurrentUser, db: DbSession) -> EscalationPolicy:
    _staff(user)
    return policy_for(db, user.org_id)


@router.put("/escalation-policy", response_model=EscalationPolicy)
def put_policy(body: EscalationPolicy, user: CurrentUser, db: DbSession) -> EscalationPolicy:
    _admin(user)
    store_policy(db, user.org_id, body, user.username, now_utc())
    record(db, user.username, "escalation_policy.update", actor_id=user.id,
           detail=body.model_dump(mode="json"))
    db.commit()
    return body


class TargetIn(BaseModel):
    tier: str = Field(min_length=1, max_length=64, examples=["nurse"])
    channel: Literal["webhook", "email"]
    address: str = Field(min_length=3, max_length=500)
    secret: str | None = Field(default=None, min_length=16, max_length=200,
                               description="webhook HMAC key (required for webhooks)")
    min_severity: Literal["info", "warning", "urgent"] = "info"


class TargetOut(BaseModel):
    id: int
    tier: str
    channel: str
    address: str
    min_severity: str
    enabled: bool


def _target_out(t: NotificationTarget) -> TargetOut:
    return TargetOut(id=t.id, tier=t.tier, channel=t.channel, address=t.address,
                     min_severity=Severity(t.min_severity).label, enabled=t.enabled)


@router.get("/notification-targets", response_model=list[TargetOut])
def list_targets(user: CurrentUser, db: DbSession) -> list[TargetOut]:
    _admin(user)
    rows = db.scalars(select(NotificationTarget).where(NotificationTarget.org_id == user.org_id)
                      .order_by(NotificationTarget.id))
    return [_target_out(t) for t in rows]


@router.post("/notification-targets", response_model=TargetOut, status_code=201)
def add_target(body: TargetIn, user: CurrentUser, db: DbSession) -> TargetOut:
    _admin(user)
    if body.channel == "webhook" and (not body.secret or not body.address.startswith("http")):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            "a webhook needs an http(s) address and a secret")
    t = NotificationTarget(org_id=user.org_id, tier=body.tier, channel=body.channel,
                           address=body.address, secret=body.secret, enabled=True,
                           min_severity=int(Severity[body.min_severity.upper()]))
    db.add(t)
    db.flush()
    record(db, user.username, "notification_target.create", actor_id=user.id,
           detail={"id": t.id, "tier": t.tier, "channel": t.channel})
    db.commit()
    return _target_out(t)


@router.delete("/notification-targets/{target_id}", status_code=204)
def disable_target(target_id: IntId, user: CurrentUser, db: DbSession) -> None:
    _admin(user)
    t = db.get(NotificationTarget, target_id)
    if t is None or t.org_id != user.org_id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such target")
    t.enabled = False  # kept: delivery rows refer to it
    record(db, user.username, "notification_target.disable", actor_id=user.id,
           detail={"id": t.id})
    db.commit()


class WorklistOut(BaseModel):
    id: int
    patient_id: str
    kind: str
    period: str
    created_at: datetime
    detail: dict[str, Any]
    done_at: datetime | None
    done_by: str | None


@router.get("/worklist", response_model=list[WorklistOut])
def worklist(user: CurrentUser, db: DbSession, include_done: bool = False) -> list[WorklistOut]:
    """Non-paging items (weekly 7-day home BP ≥ threshold), newest first."""
    _staff(user)
    patients = visible_patients(user).with_only_columns(Patient.id).scalar_subquery()
    query = select(WorklistItem).where(WorklistItem.patient_id.in_(patients))
    if not include_done:
        query = query.where(WorklistItem.done_at.is_(None))
    items = db.scalars(query.order_by(WorklistItem.created_at.desc(), WorklistItem.id)).all()
    record(db, user.username, "worklist.read", actor_id=user.id,
           detail={"items": [i.id for i in items]})
    db.commit()
    return [WorklistOut.model_validate(i, from_attributes=True) for i in items]


@router.post("/worklist/{item_id}/done", response_model=WorklistOut)
def worklist_done(item_id: IntId, user: CurrentUser, db: DbSession) -> WorklistOut:
    _staff(user)
    item = db.get(WorklistItem, item_id)
    visible = item is not None and db.scalar(
        visible_patients(user).where(Patient.id == item.patient_id)) is not None
    if item is None or not visible:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such item")
    if item.done_at is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, "already done")
    item.done_at, item.done_by = now_utc(), user.username
    record(db, user.username, "worklist.done", actor_id=user.id, patient_id=item.patient_id,
           detail={"id": item.id})
    db.commit()
    return WorklistOut.model_validate(item, from_attributes=True)
