"""Consortia, care teams and panels, consents and referrals.

Functions take an open session, audit what they change, and leave committing to the
caller. Permission checks that need the caller live here too, next to the change they
guard; patient visibility itself is decided only in :mod:`cloud_api.db.access`.
"""

from __future__ import annotations

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from cloud_api.db.access import is_team_member, panel_teams, visible_patient
from cloud_api.db.access_models import (
    CareTeam,
    Consent,
    Consortium,
    ConsortiumMember,
    OrgLevel,
    Referral,
    care_team_members,
    team_patients,
)
from cloud_api.db.audit import record
from cloud_api.db.errors import Conflict, Forbidden, Invalid, NotFound
from cloud_api.db.models import Organization, Patient, Role, User
from vitals.readings import now_utc

CONSENT_PURPOSES = ("treatment", "referral", "research")


def actor(user: User | None) -> tuple[str, int | None]:
    return (user.username, user.id) if user is not None else ("cli", None)


def join_consortium(db: Session, org: Organization, slug: str, level: OrgLevel,
                    name: str | None = None) -> Consortium:
    consortium = db.scalar(select(Consortium).where(Consortium.slug == slug))
    if consortium is None:
        consortium = Consortium(slug=slug, name=name or slug, created_at=now_utc())
        db.add(consortium)
        db.flush()
    member = db.get(ConsortiumMember, org.id)
    if member is None:
        db.add(ConsortiumMember(org_id=org.id, consortium_id=consortium.id, level=level.value))
    elif member.consortium_id != consortium.id:
        raise Conflict(f"organisation {org.slug!r} is in another consortium")
    db.flush()
    record(db, "cli", "consortium.join", detail={"org": org.slug, "consortium": slug,
                                                  "level": level.value})
    return consortium


def consortium_of(db: Session, org_id: int) -> int | None:
    member = db.get(ConsortiumMember, org_id)
    return member.consortium_id if member else None


def create_team(db: Session, org_id: int, name: str, by: User | None = None) -> CareTeam:
    if db.scalar(select(CareTeam).where(CareTeam.org_id == org_id, CareTeam.name == name)):
        raise Conflict(f"team {name!r} exists already")
    team = CareTeam(org_id=org_id, name=name, created_at=now_utc())
    db.add(team)
    db.flush()
    who, who_id = actor(by)
    record(db, who, "team.create", actor_id=who_id, detail={"team": team.id, "name": name})
    return team


def org_team(db: Session, user: User, team_id: int) -> CareTeam:
    """A team of the caller's organisation (org admins manage only their own)."""
    team = db.get(CareTeam, team_id)
    if team is None or team.org_id != user.org_id:
        raise NotFound("team not found")
    return team


def add_member(db: Session, team: CareTeam, member: User, by: User | None = None) -> None:
    if member.org_id != team.org_id:
        raise Invalid("team members must belong to the team's organisation")
    if member.role not in (Role.CLINICIAN.value, Role.NURSE.value, Role.ORG_ADMIN.value):
        raise Invalid(f"a {member.role} user cannot join a care team")
    if is_team_member(db, member, team.id):
        return
    db.execute(insert(care_team_members).values(team_id=team.id, user_id=member.id))
    who, who_id = actor(by)
    record(db, who, "team.member.grant", actor_id=who_id,
           detail={"team": team.id, "user": member.username})


def remove_member(db: Session, team: CareTeam, member: User, by: User) -> None:
    db.execute(delete(care_team_members).where(
        care_team_members.c.team_id == team.id, care_team_members.c.user_id == member.id))
    record(db, by.username, "team.member.revoke", actor_id=by.id,
           detail={"team": team.id, "user": member.username})


def add_to_panel(db: Session, team: CareTeam, patient: Patient, by: User | None = None) -> None:
    if patient.org_id != team.org_id:
        raise Invalid("a team's panel holds patients of its own organisation; refer others")
    exists = db.scalar(select(team_patients.c.team_id).where(
        team_patients.c.team_id == team.id, team_patients.c.patient_id == patient.id))
    if exists is not None:
        return
    db.execute(insert(team_patients).values(team_id=team.id, patient_id=patient.id))
    who, who_id = actor(by)
    record(db, who, "panel.grant", actor_id=who_id, patient_id=patient.id,
           detail={"team": team.id})


def remove_from_panel(db: Session, team: CareTeam, patient_id: str, by: User) -> None:
    db.execute(delete(team_patients).where(
        team_patients.c.team_id == team.id, team_patients.c.patient_id == patient_id))
    record(db, by.username, "panel.revoke", actor_id=by.id, patient_id=patient_id,
           detail={"team": team.id})


def grant_consent(db: Session, patient: Patient, purpose: str, org_slug: str,
                  by: User) -> Consent:
    if purpose not in CONSENT_PURPOSES:
        raise Invalid(f"purpose must be one of {', '.join(CONSENT_PURPOSES)}")
    org = db.scalar(select(Organization).where(Organization.slug == org_slug))
    if org is None:
        raise Invalid(f"no organisation {org_slug!r}")
    consent = Consent(patient_id=patient.id, purpose=purpose, granted_to_org_id=org.id,
                      granted_at=now_utc(), revoked_at=None, recorded_by=by.id)
    db.add(consent)
    db.flush()
    record(db, by.username, "consent.grant", actor_id=by.id, patient_id=patient.id,
           detail={"consent": consent.id, "purpose": purpose, "org": org_slug})
    return consent


def revoke_consent(db: Session, patient: Patient, consent_id: int, by: User) -> Consent:
    consent = db.get(Consent, consent_id)
    if consent is None or consent.patient_id != patient.id:
        raise NotFound("consent not found")
    if consent.revoked_at is None:
        consent.revoked_at = now_utc()
        # Access through referrals that relied on it ends now (checked at query time too).
        record(db, by.username, "consent.revoke", actor_id=by.id, patient_id=patient.id,
               detail={"consent": consent.id})
    return consent


def refer(db: Session, user: User, patient_id: str, to_team_id: int, reason: str) -> Referral:
    """Refer a patient from one of the caller's panels to a team of another consortium member."""
    patient = visible_patient(db, user, patient_id)
    if patient is None:
        raise NotFound("patient not found")
    if user.role != Role.CLINICIAN.value:
        raise Forbidden("only clinicians refer patients")
    origins = panel_teams(db, user, patient_id)
    if not origins:
        raise Forbidden("only a team with the patient on its panel can refer")
    target = db.get(CareTeam, to_team_id)
    home = consortium_of(db, patient.org_id)
    if target is None or home is None or consortium_of(db, target.org_id) != home:
        raise Invalid("the receiving team must belong to the same consortium")
    if target.org_id == patient.org_id:
        raise Invalid("add the patient to the team's panel instead of referring within an org")
    consent = db.scalar(select(Consent).where(
        Consent.patient_id == patient_id, Consent.granted_to_org_id == target.org_id,
        Consent.purpose.in_(("referral", "treatment")), Consent.revoked_at.is_(None),
    ).order_by(Consent.id.desc()))
    if consent is None:
        raise Invalid("no active consent for the receiving organisation; record it first")
    if db.scalar(select(Referral).where(Referral.patient_id == patient_id,
                                        Referral.to_team_id == target.id,
                                        Referral.ended_at.is_(None))):
        raise Conflict("an open referral to this team exists already")
    referral = Referral(patient_id=patient_id, from_team_id=origins[0].id, to_team_id=target.id,
                        consent_id=consent.id, reason=reason, created_by=user.id,
                        created_at=now_utc(), ended_at=None, ended_by=None)
    db.add(referral)
    db.flush()
    record(db, user.username, "referral.grant", actor_id=user.id, patient_id=patient_id,
           detail={"referral": referral.id, "to_team": target.id, "consent": consent.id})
    return referral


def end_referral(db: Session, user: User, referral_id: int) -> Referral:
    """Refer back: the receiving team loses access; the referring team keeps its panel."""
    referral = db.get(Referral, referral_id)
    if referral is None:
        raise NotFound("referral not found")
    teams = (referral.from_team_id, referral.to_team_id)
    member = any(is_team_member(db, user, t) for t in teams)
    admin = user.role == Role.ORG_ADMIN.value and any(
        (team := db.get(CareTeam, t)) is not None and team.org_id == user.org_id for t in teams)
    if not (member or admin):
        raise NotFound("referral not found")
    if user.role not in (Role.CLINICIAN.value, Role.ORG_ADMIN.value):
        raise Forbidden("only clinicians or org admins end referrals")
    if referral.ended_at is None:
        referral.ended_at = now_utc()
        referral.ended_by = user.id
        record(db, user.username, "referral.revoke", actor_id=user.id,
               patient_id=referral.patient_id, detail={"referral": referral.id})
    return referral
