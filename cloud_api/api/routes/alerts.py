"""The alert inbox and lifecycle actions. Every read and action is audited; actions are
for organisation staff only (family users may read what they can see). Reads query through
the read session and audit through the write-behind recorder (db/audit_writer.py); actions
write their audit row in their own transaction."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from cloud_api.alerting import lifecycle
from cloud_api.alerting.lifecycle import Actor, IllegalTransition
from cloud_api.alerting.models import AlertWorkflow, WorkflowStatus
from cloud_api.alerting.views import INBOX_COLUMNS, AlertOut, AlertsPageOut, alert_out, inbox_item
from cloud_api.api.deps import CurrentUser, DbSession, ReadAudit, ReadSession
from cloud_api.api.rendering import dump, json_response
from cloud_api.db.access import visible_patients
from cloud_api.db.audit import record
from cloud_api.db.models import AlertRow, Patient, Role, User
from vitals.alerts import Severity
from vitals.readings import now_utc

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])

_STAFF = {Role.ORG_ADMIN.value, Role.CLINICIAN.value, Role.NURSE.value}
_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such alert, or not visible to the caller"},
    409: {"description": "the alert's state does not allow this action"},
}


def visible_alerts(user: User) -> Select[AlertWorkflow, AlertRow]:
    patients = visible_patients(user).with_only_columns(Patient.id).scalar_subquery()
    return (select(AlertWorkflow, AlertRow)
            .join(AlertRow, AlertRow.alert_id == AlertWorkflow.alert_id)
            .where(AlertWorkflow.patient_id.in_(patients)))


def _cursor(raised_at: datetime, alert_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([raised_at.isoformat(), alert_id]).encode()).decode()


def _parse_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        at, alert_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return datetime.fromisoformat(at), str(alert_id)
    except (ValueError, TypeError) as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"bad cursor: {exc}") from None


@router.get("", response_model=AlertsPageOut)
async def inbox(
    request: Request, user: CurrentUser, audit: ReadAudit,
    state: Annotated[list[str] | None, Query(description="raised, delivered, acknowledged, "
                                             "resolved (repeatable)")] = None,
    severity: Annotated[list[str] | None, Query(description="info, warning, urgent")] = None,
    patient: str | None = None,
    assigned: Annotated[str | None, Query(pattern="^me$", description="'me'")] = None,
    since: Annotated[datetime | None, Query(description="raised_at ≥ since")] = None,
    until: Annotated[datetime | None, Query(description="raised_at < until")] = None,
    simulated: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> Response:
    """Newest first; keyset pagination on (raised_at, alert_id)."""
    query = visible_alerts(user)
    if state:
        bad = set(state) - set(WorkflowStatus.ALL)
        if bad:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"unknown state {bad}")
        query = query.where(AlertWorkflow.status.in_(state))
    if severity:
        try:
            levels = [int(Severity[s.upper()]) for s in severity]
        except KeyError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                                f"unknown severity {exc}") from None
        query = query.where(AlertWorkflow.severity.in_(levels))
    if patient is not None:
        query = query.where(AlertWorkflow.patient_id == patient)
    if assigned == "me":
        query = query.where(AlertWorkflow.assignee_id == user.id)
    if since is not None:
        query = query.where(AlertWorkflow.raised_at >= since)
    if until is not None:
        query = query.where(AlertWorkflow.raised_at < until)
    if simulated is not None:
        query = query.where(AlertRow.simulated == simulated)
    if cursor is not None:
        at, alert_id = _parse_cursor(cursor)
        query = query.where(or_(AlertWorkflow.raised_at < at,
                                and_(AlertWorkflow.raised_at == at,
                                     AlertWorkflow.alert_id < alert_id)))
    newest_first = (AlertWorkflow.raised_at.desc(), AlertWorkflow.alert_id.desc())
    # Two steps in one statement: pick the page's ids by the narrow workflow columns, then
    # load the wide rows (alert bodies) for those only. Sorting every open alert with its
    # body took SQLite ≈ 7 ms for 1 350 open alerts; this ≈ 3 ms.
    page_ids = query.with_only_columns(AlertWorkflow.alert_id).order_by(*newest_first)
    query = (select(*INBOX_COLUMNS)
             .join(AlertRow, AlertRow.alert_id == AlertWorkflow.alert_id)
             .where(AlertWorkflow.alert_id.in_(page_ids.limit(limit + 1)))
             .order_by(*newest_first))

    # Query, page building, audit and JSON in ONE thread hop (api/rendering.py).
    def work() -> bytes:
        with request.app.state.read_sessions() as reader:
            rows = reader.connection().execute(query).all()
            page = rows[:limit]
            policies: dict[int, Any] = {}
            items = [inbox_item(reader, row, policies) for row in page]
        audit.record(user.username, "alerts.list", actor_id=user.id,
                     detail={"alerts": [i["alert_id"] for i in items]})
        more = len(rows) > limit
        return dump({"items": items, "next_cursor": _cursor(page[-1].raised_at,
                                                            page[-1].alert_id) if more else None})

    return json_response(await anyio.to_thread.run_sync(work))


def _find(db: Session, user: User, alert_id: str) -> tuple[AlertWorkflow, AlertRow] | None:
    row = db.execute(visible_alerts(user).where(AlertWorkflow.alert_id == alert_id)).first()
    return None if row is None else (row[0], row[1])


_NOT_FOUND = "alert not found"


@router.get("/{alert_id}", response_model=AlertOut, responses=_ERRORS)
def get_alert(alert_id: str, user: CurrentUser, reader: ReadSession,
              audit: ReadAudit) -> AlertOut:
    found = _find(reader, user, alert_id)
    if found is None:
        audit.record(user.username, "alert.denied", actor_id=user.id,
                     detail={"alert_id": alert_id[:64]})
        raise HTTPException(status.HTTP_404_NOT_FOUND, _NOT_FOUND)
    wf, alert = found
    audit.record(user.username, "alert.read", actor_id=user.id, patient_id=wf.patient_id,
                 detail={"alert_id": alert_id})
    return alert_out(reader, wf, alert, full=True)


class ResolveIn(BaseModel):
    reason: str = Field(default="", max_length=2000)


class AssignIn(BaseModel):
    username: str | None = Field(description="staff member of the alert's organisation; "
                                 "null unassigns")


class CommentIn(BaseModel):
    text: str = Field(min_length=1, max_length=4000)


class SnoozeIn(BaseModel):
    duration_s: float = Field(gt=0, description="capped per tier (urgent: 15 min)")


def _act(db: Session, user: User, alert_id: str, action: str, body: Any = None) -> AlertOut:
    if user.role not in _STAFF:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only clinical staff act on alerts")
    found = _find(db, user, alert_id)
    if found is None:
        record(db, user.username, "alert.denied", actor_id=user.id,
               detail={"alert_id": alert_id[:64]})
        db.commit()
        raise HTTPException(status.HTTP_404_NOT_FOUND, _NOT_FOUND)
    wf, alert = found
    actor, now = Actor(user.username, user.id), now_utc()
    try:
        if action == "acknowledge":
            lifecycle.acknowledge(db, wf, actor, now)
        elif action == "resolve":
            lifecycle.resolve(db, wf, actor, now, reason=body.reason)
        elif action == "assign":
            assignee = None
            if body.username is not None:
                assignee = db.scalar(select(User).where(User.username == body.username))
                if (assignee is None or assignee.org_id != wf.org_id
                        or assignee.role not in _STAFF or assignee.disabled):
                    raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                                        "assignee must be active staff of the organisation")
            lifecycle.assign(db, wf, actor, now, assignee.id if assignee else None,
                             assignee.username if assignee else None)
        elif action == "comment":
            lifecycle.comment(db, wf, actor, now, body.text)
        elif action == "snooze":
            lifecycle.snooze(db, wf, alert, actor, now, body.duration_s)
        elif action == "escalate":
            lifecycle.escalate(db, wf, actor, now)
    except IllegalTransition as exc:
        db.rollback()
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    db.commit()
    db.refresh(alert)
    return alert_out(db, wf, alert, full=True)


@router.post("/{alert_id}/acknowledge", response_model=AlertOut, responses=_ERRORS)
def acknowledge(alert_id: str, user: CurrentUser, db: DbSession) -> AlertOut:
    return _act(db, user, alert_id, "acknowledge")


@router.post("/{alert_id}/resolve", response_model=AlertOut, responses=_ERRORS)
def resolve(alert_id: str, user: CurrentUser, db: DbSession,
            body: ResolveIn | None = None) -> AlertOut:
    return _act(db, user, alert_id, "resolve", body or ResolveIn())


@router.post("/{alert_id}/assign", response_model=AlertOut, responses=_ERRORS)
def assign(alert_id: str, body: AssignIn, user: CurrentUser, db: DbSession) -> AlertOut:
    return _act(db, user, alert_id, "assign", body)


@router.post("/{alert_id}/comments", response_model=AlertOut, responses=_ERRORS)
def comment(alert_id: str, body: CommentIn, user: CurrentUser, db: DbSession) -> AlertOut:
    return _act(db, user, alert_id, "comment", body)


@router.post("/{alert_id}/snooze", response_model=AlertOut, responses=_ERRORS)
def snooze(alert_id: str, body: SnoozeIn, user: CurrentUser, db: DbSession) -> AlertOut:
    return _act(db, user, alert_id, "snooze", body)


@router.post("/{alert_id}/escalate", response_model=AlertOut, responses=_ERRORS)
def escalate(alert_id: str, user: CurrentUser, db: DbSession) -> AlertOut:
    return _act(db, user, alert_id, "escalate")
