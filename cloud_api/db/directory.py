"""Provisioning and look-ups of organisations, users, patients and gateways.

Every function takes an open :class:`Session` and leaves committing to the caller, so
the CLI can make a whole command one transaction. Creation is idempotent where the
brief needs it (``seed-demo`` may run on every ``homerpm demo``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from cloud_api.db.audit import record
from cloud_api.db.models import Gateway, Organization, Patient, Role, User
from cloud_api.security import hash_password
from vitals.readings import now_utc
from vitals.topics import TopicError, check_gateway_id

DEMO_ORG = "demo-clinic"
DEMO_USER = "demo"
DEMO_PASSWORD = "demo"  # demo only: seed-demo is for local trials, never production
DEMO_PATIENT = "demo-patient-1"
DEMO_GATEWAY = "gw-demo-1"
DEMO_TEAM = "demo-team"


class ProvisioningError(ValueError):
    """A provisioning request that contradicts what is stored; the message says why."""


def get_org(db: Session, slug: str) -> Organization:
    org = db.scalar(select(Organization).where(Organization.slug == slug))
    if org is None:
        raise ProvisioningError(f"no organisation {slug!r}; create it with create-org")
    return org


def create_org(db: Session, slug: str, name: str | None = None) -> Organization:
    org = db.scalar(select(Organization).where(Organization.slug == slug))
    if org is None:
        org = Organization(slug=slug, name=name or slug, created_at=now_utc())
        db.add(org)
        db.flush()
        record(db, "cli", "org.create", detail={"org": slug})
    return org


def create_patient(
    db: Session, org_slug: str, patient_id: str, display_name: str, mrn: str | None = None
) -> Patient:
    try:
        check_gateway_id(patient_id)  # same opaque-id alphabet as gateway ids
    except TopicError:
        raise ProvisioningError(
            f"patient id {patient_id!r} must be 1-64 letters, digits, '-' or '_'"
        ) from None
    org = get_org(db, org_slug)
    patient = db.get(Patient, patient_id)
    if patient is not None:
        if patient.org_id != org.id:
            raise ProvisioningError(f"patient {patient_id!r} belongs to another organisation")
        return patient
    patient = Patient(
        id=patient_id, org_id=org.id, display_name=display_name, mrn=mrn, created_at=now_utc()
    )
    db.add(patient)
    db.flush()
    record(db, "cli", "patient.create", patient_id=patient_id, detail={"org": org_slug})
    return patient


def create_user(
    db: Session, org_slug: str, username: str, password: str, role: Role,
    patient_id: str | None = None, *, exist_ok: bool = False,
) -> User:
    org = get_org(db, org_slug)
    if (role is Role.FAMILY) != (patient_id is not None):
        raise ProvisioningError("a family user needs --patient; other roles must not have one")
    if patient_id is not None:
        patient = db.get(Patient, patient_id)
        if patient is None or patient.org_id != org.id:
            raise ProvisioningError(f"no patient {patient_id!r} in organisation {org_slug!r}")
    existing = db.scalar(select(User).where(User.username == username))
    if existing is not None:
        if exist_ok and existing.org_id == org.id and existing.role == role:
            return existing
        raise ProvisioningError(f"user {username!r} exists already")
    user = User(
        org_id=org.id, username=username, password_hash=hash_password(password), role=role.value,
        patient_id=patient_id, disabled=False, created_at=now_utc(),
    )
    db.add(user)
    db.flush()
    record(db, "cli", "user.create", patient_id=patient_id,
           detail={"org": org_slug, "username": username, "role": role.value})
    return user


def register_gateway(
    db: Session, gateway_id: str, patient_ids: Sequence[str], label: str | None = None
) -> Gateway:
    """Register a gateway (or add patients to it); all patients must share its organisation."""
    try:
        check_gateway_id(gateway_id)
    except TopicError as exc:
        raise ProvisioningError(str(exc)) from None
    if not patient_ids:
        raise ProvisioningError("a gateway needs at least one --patient")
    patients = []
    for pid in patient_ids:
        patient = db.get(Patient, pid)
        if patient is None:
            raise ProvisioningError(f"no patient {pid!r}; create it with create-patient")
        patients.append(patient)
    orgs = {p.org_id for p in patients}
    gateway = db.get(Gateway, gateway_id)
    changed = gateway is None
    if gateway is None:
        if len(orgs) != 1:
            raise ProvisioningError("a gateway's patients must belong to one organisation")
        gateway = Gateway(id=gateway_id, org_id=orgs.pop(), label=label, created_at=now_utc())
        db.add(gateway)
    elif orgs != {gateway.org_id}:
        raise ProvisioningError(f"gateway {gateway_id!r} serves another organisation")
    for patient in patients:
        if patient not in gateway.patients:
            gateway.patients.append(patient)
            changed = True
    db.flush()
    if changed:
        record(db, "cli", "gateway.register",
               detail={"gateway": gateway_id, "patients": list(patient_ids)})
    return gateway


@dataclass(frozen=True, slots=True)
class GatewayAssignment:
    gateway_id: str
    org_id: int
    patients: frozenset[str]


def gateway_assignment(db: Session, gateway_id: str) -> GatewayAssignment | None:
    gateway = db.get(Gateway, gateway_id)
    if gateway is None:
        return None
    return GatewayAssignment(gateway.id, gateway.org_id, frozenset(p.id for p in gateway.patients))


def seed_demo(db: Session) -> None:
    """The demo organisation, clinician ``demo``/``demo`` on care team ``demo-team`` with
    the one patient on its panel, and one gateway."""
    from cloud_api.db import care  # care builds on this module
    from cloud_api.db.access_models import CareTeam

    org = create_org(db, DEMO_ORG, "Demo Clinic")
    patient = create_patient(db, DEMO_ORG, DEMO_PATIENT, "Demo Patient (simulated)", mrn=None)
    user = create_user(db, DEMO_ORG, DEMO_USER, DEMO_PASSWORD, Role.CLINICIAN, exist_ok=True)
    register_gateway(db, DEMO_GATEWAY, [DEMO_PATIENT], label="demo gateway")
    team = db.scalar(select(CareTeam).where(CareTeam.org_id == org.id,
                                            CareTeam.name == DEMO_TEAM))
    if team is None:
        team = care.create_team(db, org.id, DEMO_TEAM)
    care.add_member(db, team, user)
    care.add_to_panel(db, team, patient)
