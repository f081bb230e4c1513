"""Who may see which patient: the single place patient-level access is decided.

Default deny. The rules (docs/api.md, "Roles and access"):

* **clinician / nurse** read the clinical data of patients on the panels of the care teams
  they belong to, plus patients **referred** to one of those teams (an open referral backed
  by a consent that is still active for the receiving organisation).
* **org_admin** manages their organisation (users, teams, patients, gateways) but reads
  clinical data only through team membership, exactly like a clinician.
* **family** sees exactly their own patient.
* **service** accounts see no patient data through the API.

Management (demographics, consents, gateways) is decided by :func:`managed_patients`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, false, or_, select
from sqlalchemy.orm import Session

from cloud_api.db.access_models import (
    CareTeam,
    Consent,
    Referral,
    care_team_members,
    team_patients,
)
from cloud_api.db.models import Patient, Role, User

CARE_ROLES = frozenset({Role.ORG_ADMIN.value, Role.CLINICIAN.value, Role.NURSE.value})


def my_team_ids(user: User) -> Select[int]:
    return select(care_team_members.c.team_id).where(care_team_members.c.user_id == user.id)


def open_referrals() -> Select[Referral]:
    """Referrals that currently grant access: not ended, consent not revoked."""
    return (
        select(Referral)
        .join(Consent, Consent.id == Referral.consent_id)
        .where(Referral.ended_at.is_(None), Consent.revoked_at.is_(None))
    )


def _care_rule(user_id: Any, patient_id: Any = None) -> ColumnElement[bool]:
    """The care roles' rule: on a panel of one of my teams, or referred to one of them.
    ``patient_id`` narrows the subqueries to that patient (else SQLite lists the whole
    panel, 1 000 patients, for a one-patient check)."""
    teams = select(care_team_members.c.team_id).where(care_team_members.c.user_id == user_id)
    on_panel = select(team_patients.c.patient_id).where(team_patients.c.team_id.in_(teams))
    referred = (
        open_referrals().where(Referral.to_team_id.in_(teams))
        .with_only_columns(Referral.patient_id)
    )
    if patient_id is not None:
        on_panel = on_panel.where(team_patients.c.patient_id == patient_id)
        referred = referred.where(Referral.patient_id == patient_id)
    return or_(Patient.id.in_(on_panel), Patient.id.in_(referred))


def visible_patients(user: User, patient_id: str | None = None) -> Select[Patient]:
    """Patients whose clinical data ``user`` may read (use as a query; default deny).
    ``patient_id``: only that patient (see :func:`_care_rule`)."""
    query = select(Patient)
    if patient_id is not None:
        query = query.where(Patient.id == patient_id)
    if user.disabled:
        return query.where(false())
    if user.role in CARE_ROLES:
        return query.where(_care_rule(user.id, patient_id))
    if user.role == Role.FAMILY.value and user.patient_id is not None:
        return query.where(Patient.id == user.patient_id, Patient.org_id == user.org_id)
    return query.where(false())


def visible_patient(db: Session, user: User, patient_id: str) -> Patient | None:
    """The patient if ``user`` may see them; None otherwise (callers answer 404 either way)."""
    return db.scalar(visible_patients(user, patient_id))


# :func:`can_read_patient` for care roles, built once with bound parameters: building and
# cache-keying the nested statement per request cost ≈ 50 times the query itself.
_CARE_CAN_READ = select(Patient.id).where(
    Patient.id == bindparam("patient_id"),
    _care_rule(bindparam("user_id"), bindparam("patient_id")))


def can_read_patient(db: Session, user: User, patient_id: str) -> bool:
    """:func:`visible_patient` as a yes/no, without loading the patient (hot read paths)."""
    if user.role in CARE_ROLES and not user.disabled:
        found = db.connection().execute(
            _CARE_CAN_READ, {"patient_id": patient_id, "user_id": user.id}).first()
    else:
        found = db.execute(visible_patients(user, patient_id).with_only_columns(Patient.id)
                           ).first()
    return found is not None


def managed_patients(user: User) -> Select[Patient]:
    """Patients whose record (demographics, consents, gateways) ``user`` administers."""
    query = select(Patient)
    if user.disabled or user.role != Role.ORG_ADMIN.value:
        return query.where(false())
    return query.where(Patient.org_id == user.org_id)


def managed_patient(db: Session, user: User, patient_id: str) -> Patient | None:
    return db.scalar(managed_patients(user).where(Patient.id == patient_id))


def panel_teams(db: Session, user: User, patient_id: str) -> list[CareTeam]:
    """The caller's own teams that have the patient on their panel (a referral's origin)."""
    return list(db.scalars(
        select(CareTeam)
        .join(team_patients, team_patients.c.team_id == CareTeam.id)
        .where(team_patients.c.patient_id == patient_id, CareTeam.id.in_(my_team_ids(user)))
        .order_by(CareTeam.id)
    ))


def is_team_member(db: Session, user: User, team_id: int) -> bool:
    return db.scalar(
        select(care_team_members.c.team_id).where(
            care_team_members.c.team_id == team_id, care_team_members.c.user_id == user.id)
    ) is not None
