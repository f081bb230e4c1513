"""Patient records (create / read / update), consents and referrals."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status
from sqlalchemy import select

from cloud_api.api.access_schemas import (
    ConsentIn,
    ConsentOut,
    ConsortiumTeamOut,
    IntId,
    PatientDetailOut,
    PatientIn,
    PatientPatch,
    ReferralIn,
    ReferralOut,
)
from cloud_api.api.deps import CurrentUser, DbSession
from cloud_api.api.guards import admin_patient, clinical_patient, require
from cloud_api.db import care
from cloud_api.db.access import managed_patient, visible_patient
from cloud_api.db.access_models import CareTeam, Consent, ConsortiumMember, Referral
from cloud_api.db.audit import record
from cloud_api.db.errors import Conflict, Forbidden, NotFound
from cloud_api.db.models import Gateway, Organization, Patient, Role
from vitals.readings import now_utc

router = APIRouter(prefix="/api/v1", tags=["patients"])
_ERR: dict[int | str, dict[str, Any]] = {403: {"description": "role not allowed"},
        404: {"description": "no such patient, or not visible to the caller"}}


@router.post("/patients", response_model=PatientDetailOut, status_code=status.HTTP_201_CREATED,
             responses={**_ERR, 409: {"description": "id taken"}})
def create_patient(body: PatientIn, user: CurrentUser, db: DbSession) -> PatientDetailOut:
    """Org admins register a patient in their organisation (put them on a team's panel next)."""
    require(user, Role.ORG_ADMIN)
    if db.get(Patient, body.id) is not None:
        raise Conflict("patient id taken")
    patient = Patient(id=body.id, org_id=user.org_id, display_name=body.display_name,
                      mrn=body.mrn, created_at=now_utc())
    db.add(patient)
    db.flush()
    record(db, user.username, "patient.create", actor_id=user.id, patient_id=patient.id)
    db.commit()
    return _detail(db, user, patient)


def _detail(db: DbSession, user: CurrentUser, patient: Patient) -> PatientDetailOut:
    org = db.get(Organization, patient.org_id)
    gateways = db.scalars(select(Gateway.id).where(Gateway.patients.contains(patient))
                          .order_by(Gateway.id)).all()
    return PatientDetailOut(
        id=patient.id, display_name=patient.display_name, mrn=patient.mrn,
        org=org.slug if org else "?", gateways=list(gateways),
        clinical_access=visible_patient(db, user, patient.id) is not None)


@router.get("/patients/{patient_id}", response_model=PatientDetailOut, responses=_ERR)
def get_patient(patient_id: str, user: CurrentUser, db: DbSession) -> PatientDetailOut:
    patient = visible_patient(db, user, patient_id) or managed_patient(db, user, patient_id)
    if patient is None:
        record(db, user.username, "patient.denied", actor_id=user.id, patient_id=patient_id[:64])
        db.commit()
        raise NotFound("patient not found")
    record(db, user.username, "patient.read", actor_id=user.id, patient_id=patient_id)
    db.commit()
    return _detail(db, user, patient)


@router.patch("/patients/{patient_id}", response_model=PatientDetailOut, responses=_ERR)
def patch_patient(patient_id: str, body: PatientPatch, user: CurrentUser,
                  db: DbSession) -> PatientDetailOut:
    patient = admin_patient(db, user, patient_id)
    changes = body.model_dump(exclude_unset=True)
    for key, value in changes.items():
        if key == "display_name" and value is None:
            continue
        setattr(patient, key, value)
    record(db, user.username, "patient.update", actor_id=user.id, patient_id=patient_id,
           detail={"fields": sorted(changes)})
    db.commit()
    return _detail(db, user, patient)


def _consent_out(db: DbSession, c: Consent) -> ConsentOut:
    org = db.get(Organization, c.granted_to_org_id)
    return ConsentOut(id=c.id, patient_id=c.patient_id, purpose=c.purpose,
                      granted_to_org=org.slug if org else "?", granted_at=c.granted_at,
                      revoked_at=c.revoked_at)


def _consent_patient(db: DbSession, user: CurrentUser, patient_id: str) -> Patient:
    """Consents are recorded by the patient's own organisation: its admin, or a clinician
    of its staff with the patient on a panel."""
    patient = managed_patient(db, user, patient_id)
    if patient is not None:
        return patient
    patient = clinical_patient(db, user, patient_id, "consents")
    if user.role != Role.CLINICIAN.value or patient.org_id != user.org_id:
        raise Forbidden("only the patient's own clinicians or org admin record consent")
    return patient


@router.get("/patients/{patient_id}/consents", response_model=list[ConsentOut], responses=_ERR)
def list_consents(patient_id: str, user: CurrentUser, db: DbSession) -> list[ConsentOut]:
    patient = managed_patient(db, user, patient_id) or clinical_patient(
        db, user, patient_id, "consents")
    rows = list(db.scalars(select(Consent).where(Consent.patient_id == patient.id)
                           .order_by(Consent.id)))
    record(db, user.username, "consents.read", actor_id=user.id, patient_id=patient.id)
    db.commit()
    return [_consent_out(db, c) for c in rows]


@router.post("/patients/{patient_id}/consents", response_model=ConsentOut,
             status_code=status.HTTP_201_CREATED, responses=_ERR)
def add_consent(patient_id: str, body: ConsentIn, user: CurrentUser, db: DbSession) -> ConsentOut:
    patient = _consent_patient(db, user, patient_id)
    consent = care.grant_consent(db, patient, body.purpose, body.granted_to_org, user)
    db.commit()
    return _consent_out(db, consent)


@router.post("/patients/{patient_id}/consents/{consent_id}/revoke", response_model=ConsentOut,
             responses=_ERR)
def revoke_consent(patient_id: str, consent_id: IntId, user: CurrentUser,
                   db: DbSession) -> ConsentOut:
    """Revoking ends access through every referral that relied on this consent."""
    patient = _consent_patient(db, user, patient_id)
    consent = care.revoke_consent(db, patient, consent_id, user)
    db.commit()
    return _consent_out(db, consent)


def _referral_out(r: Referral) -> ReferralOut:
    return ReferralOut(id=r.id, patient_id=r.patient_id, from_team_id=r.from_team_id,
                       to_team_id=r.to_team_id, consent_id=r.consent_id, reason=r.reason,
                       created_at=r.created_at, ended_at=r.ended_at)


@router.get("/patients/{patient_id}/referrals", response_model=list[ReferralOut], responses=_ERR)
def list_referrals(patient_id: str, user: CurrentUser, db: DbSession) -> list[ReferralOut]:
    patient = managed_patient(db, user, patient_id) or clinical_patient(
        db, user, patient_id, "referrals")
    rows = list(db.scalars(select(Referral).where(Referral.patient_id == patient.id)
                           .order_by(Referral.id)))
    record(db, user.username, "referrals.read", actor_id=user.id, patient_id=patient.id)
    db.commit()
    return [_referral_out(r) for r in rows]


@router.post("/patients/{patient_id}/referrals", response_model=ReferralOut,
             status_code=status.HTTP_201_CREATED,
             responses={**_ERR, 422: {"description": "no consent / not in consortium"}})
def refer(patient_id: str, body: ReferralIn, user: CurrentUser, db: DbSession) -> ReferralOut:
    """Refer to a team of another member of the consortium (needs an active consent for
    that organisation). The receiving team then reads the full history until refer-back."""
    referral = care.refer(db, user, patient_id, body.to_team_id, body.reason)
    db.commit()
    return _referral_out(referral)


@router.post("/referrals/{referral_id}/end", response_model=ReferralOut, responses=_ERR)
def end_referral(referral_id: IntId, user: CurrentUser, db: DbSession) -> ReferralOut:
    """Refer back: the receiving team loses access; the referring clinic keeps it."""
    referral = care.end_referral(db, user, referral_id)
    db.commit()
    return _referral_out(referral)


@router.get("/consortium/teams", response_model=list[ConsortiumTeamOut], responses=_ERR)
def consortium_teams(user: CurrentUser, db: DbSession) -> list[ConsortiumTeamOut]:
    """Teams of the caller's consortium (referral targets). Care roles only."""
    require(user, Role.CLINICIAN, Role.NURSE, Role.ORG_ADMIN)
    home = care.consortium_of(db, user.org_id)
    if home is None:
        return []
    rows = db.execute(
        select(CareTeam, Organization.slug, ConsortiumMember.level)
        .join(Organization, Organization.id == CareTeam.org_id)
        .join(ConsortiumMember, ConsortiumMember.org_id == CareTeam.org_id)
        .where(ConsortiumMember.consortium_id == home).order_by(CareTeam.id)).all()
    return [ConsortiumTeamOut(team_id=t.id, team=t.name, org=slug, level=level)
            for t, slug, level in rows]

