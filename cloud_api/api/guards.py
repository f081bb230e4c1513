"""Role gates and patient look-ups shared by routes (the visibility rule is in db/access.py)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cloud_api.db.access import managed_patient, visible_patient
from cloud_api.db.audit import record
from cloud_api.db.errors import Forbidden, NotFound
from cloud_api.db.models import Patient, Role, User


def require(user: User, *roles: Role) -> None:
    if user.role not in {r.value for r in roles}:
        raise Forbidden(f"role {user.role} may not do this")


def clinical_patient(db: Session, user: User, patient_id: str, action: str,
                     audit: Session | None = None) -> Patient:
    """The patient if the caller may read their clinical data; else audit the denial, 404.
    ``audit``: the session to write the denial with when ``db`` is a read-only session."""
    patient = visible_patient(db, user, patient_id)
    if patient is None:
        writer = audit or db
        record(writer, user.username, f"{action}.denied", actor_id=user.id,
               patient_id=patient_id[:64])
        writer.commit()
        raise NotFound("patient not found")
    return patient


def admin_patient(db: Session, user: User, patient_id: str) -> Patient:
    """A patient of the caller's organisation; only org admins (403 for other roles)."""
    require(user, Role.ORG_ADMIN)
    patient = managed_patient(db, user, patient_id)
    if patient is None:
        raise NotFound("patient not found")
    return patient
