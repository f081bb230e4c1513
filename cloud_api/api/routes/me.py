"""``/api/v1/me``: who am I, and my display-unit preferences."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from cloud_api.api.access_schemas import MeOut, UnitPrefs
from cloud_api.api.deps import CurrentUser, DbSession
from cloud_api.db.access_models import UserPreference, care_team_members
from cloud_api.db.audit import record
from cloud_api.db.models import Organization

router = APIRouter(prefix="/api/v1/me", tags=["me"])


# Two columns through a statement built once, not an ORM instance: every readings
# request asks.
_PREFS = select(UserPreference.bp_unit, UserPreference.glucose_unit).where(
    UserPreference.user_id == bindparam("user_id"))


def prefs_of(db: Session, user_id: int) -> UnitPrefs:
    row = db.connection().execute(_PREFS, {"user_id": user_id}).first()
    return UnitPrefs() if row is None else UnitPrefs.model_validate(
        {"bp_unit": row.bp_unit, "glucose_unit": row.glucose_unit})


@router.get("", response_model=MeOut)
def me(user: CurrentUser, db: DbSession) -> MeOut:
    org = db.get(Organization, user.org_id)
    teams = db.scalars(select(care_team_members.c.team_id)
                       .where(care_team_members.c.user_id == user.id)).all()
    return MeOut(id=user.id, username=user.username, role=user.role,
                 org=org.slug if org else "?", patient_id=user.patient_id,
                 teams=sorted(teams), preferences=prefs_of(db, user.id))


@router.put("/preferences", response_model=UnitPrefs)
def set_preferences(body: UnitPrefs, user: CurrentUser, db: DbSession) -> UnitPrefs:
    """Units used in readings responses (values are stored canonical: mmHg, mg/dL)."""
    row = db.get(UserPreference, user.id)
    if row is None:
        row = UserPreference(user_id=user.id, bp_unit=body.bp_unit, glucose_unit=body.glucose_unit)
        db.add(row)
    row.bp_unit, row.glucose_unit = body.bp_unit, body.glucose_unit
    record(db, user.username, "preferences.change", actor_id=user.id, detail=body.model_dump())
    db.commit()
    return body
