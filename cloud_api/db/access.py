"""Who may see which patient: the single place patient-level access is decided.

Default deny. Org staff (admin, clinician, nurse) see their organisation's patients;
a family user sees only their own patient; service accounts see none. Care-team
panels and consents narrow this later, here and nowhere else.
"""

from __future__ import annotations

from sqlalchemy import Select, false, select
from sqlalchemy.orm import Session

from cloud_api.db.models import Patient, Role, User

_ORG_STAFF = {Role.ORG_ADMIN.value, Role.CLINICIAN.value, Role.NURSE.value}


def visible_patients(user: User) -> Select[Patient]:
    query = select(Patient)
    if user.disabled:
        return query.where(false())
    if user.role in _ORG_STAFF:
        return query.where(Patient.org_id == user.org_id)
    if user.role == Role.FAMILY.value and user.patient_id is not None:
        return query.where(Patient.id == user.patient_id, Patient.org_id == user.org_id)
    return query.where(false())


def visible_patient(db: Session, user: User, patient_id: str) -> Patient | None:
    """The patient if ``user`` may see them; None otherwise (callers answer 404 either way)."""
    return db.scalar(visible_patients(user).where(Patient.id == patient_id))
