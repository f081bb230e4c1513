"""Organisation administration (org_admin only): users, care teams, members and panels."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status
from sqlalchemy import select

from cloud_api.api.access_schemas import (
    IntId,
    MemberIn,
    PanelIn,
    TeamIn,
    TeamOut,
    UserIn,
    UserOut,
    UserPatch,
)
from cloud_api.api.deps import CurrentUser, DbSession
from cloud_api.api.guards import admin_patient, require
from cloud_api.db import care
from cloud_api.db.access_models import CareTeam, care_team_members, team_patients
from cloud_api.db.audit import record
from cloud_api.db.directory import ProvisioningError, create_user
from cloud_api.db.errors import Conflict, Invalid, NotFound
from cloud_api.db.models import Organization, Role, User
from cloud_api.security import hash_password

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"description": "not an org admin"}, 404: {"description": "not in your org"},
}


def _user_out(u: User) -> UserOut:
    return UserOut(id=u.id, username=u.username, role=u.role, disabled=u.disabled,
                   patient_id=u.patient_id)


@router.get("/users", response_model=list[UserOut], responses=_ERRORS)
def list_users(user: CurrentUser, db: DbSession) -> list[UserOut]:
    require(user, Role.ORG_ADMIN)
    users = db.scalars(select(User).where(User.org_id == user.org_id).order_by(User.id))
    return [_user_out(u) for u in users]


@router.post("/users", response_model=UserOut, status_code=status.HTTP_201_CREATED,
             responses={**_ERRORS, 409: {"description": "username taken"}})
def add_user(body: UserIn, user: CurrentUser, db: DbSession) -> UserOut:
    require(user, Role.ORG_ADMIN)
    org = db.get(Organization, user.org_id)
    assert org is not None
    if body.patient_id is not None:
        admin_patient(db, user, body.patient_id)
    if db.scalar(select(User.id).where(User.username == body.username)) is not None:
        raise Conflict("username taken")
    try:
        new = create_user(db, org.slug, body.username, body.password, body.role, body.patient_id)
    except ProvisioningError as exc:
        raise Invalid(str(exc)) from None
    record(db, user.username, "user.create", actor_id=user.id, patient_id=body.patient_id,
           detail={"username": body.username, "role": body.role.value})
    db.commit()
    return _user_out(new)


@router.patch("/users/{user_id}", response_model=UserOut, responses=_ERRORS)
def patch_user(user_id: IntId, body: UserPatch, user: CurrentUser, db: DbSession) -> UserOut:
    require(user, Role.ORG_ADMIN)
    target = db.get(User, user_id)
    if target is None or target.org_id != user.org_id:
        raise NotFound("user not found")
    if body.disabled is not None:
        target.disabled = body.disabled
    if body.password is not None:
        target.password_hash = hash_password(body.password)
    record(db, user.username, "user.update", actor_id=user.id,
           detail={"user": target.username, "disabled": body.disabled,
                   "password_changed": body.password is not None})
    db.commit()
    return _user_out(target)


def _team_out(db: DbSession, team: CareTeam, org_slug: str) -> TeamOut:
    members = db.scalars(select(User.username).join(
        care_team_members, care_team_members.c.user_id == User.id)
        .where(care_team_members.c.team_id == team.id).order_by(User.username)).all()
    patients = db.scalars(select(team_patients.c.patient_id)
                          .where(team_patients.c.team_id == team.id)
                          .order_by(team_patients.c.patient_id)).all()
    return TeamOut(id=team.id, org=org_slug, name=team.name, members=list(members),
                   patients=list(patients))


def _slug(db: DbSession, user: User) -> str:
    org = db.get(Organization, user.org_id)
    return org.slug if org else "?"


@router.get("/teams", response_model=list[TeamOut], responses=_ERRORS)
def list_teams(user: CurrentUser, db: DbSession) -> list[TeamOut]:
    require(user, Role.ORG_ADMIN)
    teams = db.scalars(select(CareTeam).where(CareTeam.org_id == user.org_id).order_by(CareTeam.id))
    return [_team_out(db, t, _slug(db, user)) for t in teams]


@router.post("/teams", response_model=TeamOut, status_code=status.HTTP_201_CREATED,
             responses=_ERRORS)
def add_team(body: TeamIn, user: CurrentUser, db: DbSession) -> TeamOut:
    require(user, Role.ORG_ADMIN)
    team = care.create_team(db, user.org_id, body.name, by=user)
    db.commit()
    return _team_out(db, team, _slug(db, user))


@router.post("/teams/{team_id}/members", response_model=TeamOut, responses=_ERRORS)
def add_member(team_id: IntId, body: MemberIn, user: CurrentUser, db: DbSession) -> TeamOut:
    require(user, Role.ORG_ADMIN)
    team = care.org_team(db, user, team_id)
    member = db.scalar(select(User).where(User.username == body.username))
    if member is None or member.org_id != user.org_id:
        raise NotFound("user not found")
    care.add_member(db, team, member, by=user)
    db.commit()
    return _team_out(db, team, _slug(db, user))


@router.delete("/teams/{team_id}/members/{username}", response_model=TeamOut, responses=_ERRORS)
def remove_member(team_id: IntId, username: str, user: CurrentUser, db: DbSession) -> TeamOut:
    require(user, Role.ORG_ADMIN)
    team = care.org_team(db, user, team_id)
    member = db.scalar(select(User).where(User.username == username))
    if member is None or member.org_id != user.org_id:
        raise NotFound("user not found")
    care.remove_member(db, team, member, by=user)
    db.commit()
    return _team_out(db, team, _slug(db, user))


@router.post("/teams/{team_id}/patients", response_model=TeamOut, responses=_ERRORS)
def add_to_panel(team_id: IntId, body: PanelIn, user: CurrentUser, db: DbSession) -> TeamOut:
    require(user, Role.ORG_ADMIN)
    team = care.org_team(db, user, team_id)
    patient = admin_patient(db, user, body.patient_id)
    care.add_to_panel(db, team, patient, by=user)
    db.commit()
    return _team_out(db, team, _slug(db, user))


@router.delete("/teams/{team_id}/patients/{patient_id}", response_model=TeamOut,
               responses=_ERRORS)
def remove_from_panel(team_id: IntId, patient_id: str, user: CurrentUser, db: DbSession) -> TeamOut:
    require(user, Role.ORG_ADMIN)
    team = care.org_team(db, user, team_id)
    admin_patient(db, user, patient_id)
    care.remove_from_panel(db, team, patient_id, by=user)
    db.commit()
    return _team_out(db, team, _slug(db, user))
