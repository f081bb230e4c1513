"""Patient reports as JSON and as one printable HTML page. Every read is audited."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse
from pydantic import TypeAdapter
from sqlalchemy import select
from sqlalchemy.orm import Session

from cloud_api.api.deps import CurrentUser, DbSession, get_settings
from cloud_api.db.access import visible_patient
from cloud_api.db.audit import record
from cloud_api.db.models import ReadingRow, User
from cloud_api.reports import compute, html
from edge_rules.schedule import zone
from vitals.readings import BloodPressure, Glucose, now_utc

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])

End = Annotated[datetime | None,
                Query(description="window end (default now), ISO 8601 with zone")]
Tz = Annotated[str | None, Query(description="patient IANA timezone (default HOMERPM_PATIENT_TZ)")]


def _check(request: Request, db: Session, user: User, patient_id: str, end: datetime | None,
           tz: str | None, what: str) -> tuple[datetime, str]:
    if end is not None and end.tzinfo is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "end must carry a time zone")
    tz = tz or get_settings(request).patient_tz
    try:
        zone(tz)
    except Exception:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            f"unknown timezone {tz!r}") from None
    if visible_patient(db, user, patient_id) is None:
        record(db, user.username, "report.denied", actor_id=user.id, patient_id=patient_id[:64])
        db.commit()
        raise HTTPException(status.HTTP_404_NOT_FOUND, "patient not found")
    record(db, user.username, "report.read", actor_id=user.id, patient_id=patient_id,
           detail={"report": what, "end": end.isoformat() if end else None, "tz": tz})
    db.commit()
    return end or now_utc(), tz


def _bodies(db: Session, patient_id: str, kind: str, start: datetime,
            end: datetime) -> list[dict[str, Any]]:
    return list(db.scalars(select(ReadingRow.body).where(
        ReadingRow.patient_id == patient_id, ReadingRow.kind == kind,
        ReadingRow.measured_at >= start, ReadingRow.measured_at <= end)))


_BP = TypeAdapter(list[BloodPressure])
_GLU = TypeAdapter(list[Glucose])


def _home_bp(db: Session, patient_id: str, end: datetime, tz: str) -> dict[str, Any]:
    rows = _bodies(db, patient_id, "blood_pressure", end - timedelta(days=7), end)
    return compute.home_bp_report(_BP.validate_python(rows), tz)


def _glucose(db: Session, patient_id: str, end: datetime, days: int) -> dict[str, Any]:
    rows = _bodies(db, patient_id, "glucose", end - timedelta(days=days), end)
    return {"days": days, **compute.glucose_report(_GLU.validate_python(rows))}


def _adherence(db: Session, patient_id: str, end: datetime, tz: str, days: int) -> dict[str, Any]:
    points = db.execute(select(ReadingRow.kind, ReadingRow.measured_at).where(
        ReadingRow.patient_id == patient_id,
        ReadingRow.measured_at >= end - timedelta(days=days + 1),
        ReadingRow.measured_at <= end)).all()
    return compute.adherence_report([(k, at) for k, at in points], tz, end, days)


@router.get("/{patient_id}/home-bp")
def home_bp(patient_id: str, request: Request, user: CurrentUser, db: DbSession,
            end: End = None, tz: Tz = None) -> dict[str, Any]:
    """7-day home BP by the 7-2-2 protocol (the 7 days before `end`)."""
    end, tz = _check(request, db, user, patient_id, end, tz, "home-bp")
    return _home_bp(db, patient_id, end, tz)


@router.get("/{patient_id}/glucose")
def glucose(patient_id: str, request: Request, user: CurrentUser, db: DbSession,
            end: End = None, days: Annotated[int, Query(ge=1, le=90)] = 14) -> dict[str, Any]:
    """Time in ranges, GMI (estimate) and CV over the `days` before `end`."""
    end, _ = _check(request, db, user, patient_id, end, None, "glucose")
    return _glucose(db, patient_id, end, days)


@router.get("/{patient_id}/adherence")
def adherence(patient_id: str, request: Request, user: CurrentUser, db: DbSession,
              end: End = None, tz: Tz = None,
              days: Annotated[int, Query(ge=1, le=90)] = 30) -> dict[str, Any]:
    """Days with data per device kind in the last `days` local days."""
    end, tz = _check(request, db, user, patient_id, end, tz, "adherence")
    return _adherence(db, patient_id, end, tz, days)


@router.get("/{patient_id}/report.html", response_class=HTMLResponse)
def printable(patient_id: str, request: Request, user: CurrentUser, db: DbSession,
              end: End = None, tz: Tz = None) -> HTMLResponse:
    """All three reports on one printable page (no scripts, no external assets)."""
    end, tz = _check(request, db, user, patient_id, end, tz, "html")
    page = html.render(patient_id, end.isoformat(), _home_bp(db, patient_id, end, tz),
                       _glucose(db, patient_id, end, 14), _adherence(db, patient_id, end, tz, 30))
    return HTMLResponse(page)
