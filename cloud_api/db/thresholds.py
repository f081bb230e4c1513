"""Per-patient alert-rule overrides, versioned and validated with ``edge_rules``.

Two layers per patient, as the engine applies them: **clinician** (any tunable field, plus
the patient's timezone and quiet hours) then **family** (only more sensitive; edge_rules
raises ``FamilyOverrideError`` otherwise). Every change is a new row (version, author,
reason, effective time) and an audit entry with the old and new rules. The gateway config
built from the newest versions is staged for every gateway serving the patient.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cloud_api.db.access_models import ThresholdVersion
from cloud_api.db.audit import record
from cloud_api.db.errors import Invalid
from cloud_api.db.models import Patient, User
from edge_rules.config import parse_rules_config
from edge_rules.overrides import FamilyOverrideError
from edge_rules.ruleset import RuleSetError
from vitals.readings import now_utc

LAYERS = ("clinician", "family")


def current(db: Session, patient_id: str, layer: str) -> ThresholdVersion | None:
    return db.scalar(
        select(ThresholdVersion)
        .where(ThresholdVersion.patient_id == patient_id, ThresholdVersion.layer == layer)
        .order_by(ThresholdVersion.version.desc()).limit(1)
    )


def history(db: Session, patient_id: str) -> list[ThresholdVersion]:
    return list(db.scalars(
        select(ThresholdVersion).where(ThresholdVersion.patient_id == patient_id)
        .order_by(ThresholdVersion.layer, ThresholdVersion.version.desc())
    ))


def patient_context(db: Session, patient_id: str,
                    replace: ThresholdVersion | None = None) -> dict[str, Any]:
    """The edge_rules patient context from the newest versions (``replace`` overrides one)."""
    ctx: dict[str, Any] = {}
    for layer in LAYERS:
        row = replace if replace is not None and replace.layer == layer else current(
            db, patient_id, layer)
        if row is None:
            continue
        ctx[layer] = {"version": str(row.version), "rules": row.rules}
        if layer == "clinician":
            if row.timezone:
                ctx["timezone"] = row.timezone
            if row.quiet_hours:
                ctx["quiet_hours"] = row.quiet_hours
    return ctx


def validate_context(patient_id: str, ctx: dict[str, Any]) -> None:
    try:
        parse_rules_config({"patients": {patient_id: ctx}})
    except FamilyOverrideError as exc:
        raise Invalid(f"family overrides may only make rules more sensitive: {exc}") from None
    except (RuleSetError, ValueError, TypeError) as exc:
        raise Invalid(f"invalid rules: {exc}") from None


def set_layer(
    db: Session, user: User, patient: Patient, layer: str, rules: dict[str, Any], reason: str,
    *, effective_at: datetime | None = None, timezone: str | None = None,
    quiet_hours: list[dict[str, str]] | None = None,
) -> ThresholdVersion:
    if layer not in LAYERS:
        raise Invalid(f"layer must be one of {LAYERS}")
    now = now_utc()
    if effective_at is not None and effective_at > now:
        raise Invalid("scheduled (future) changes are not supported; omit effective_at")
    if layer == "family" and (timezone is not None or quiet_hours is not None):
        raise Invalid("timezone and quiet hours belong to the clinician layer")
    old = current(db, patient.id, layer)
    row = ThresholdVersion(
        patient_id=patient.id, layer=layer, version=(old.version + 1) if old else 1,
        rules=rules, timezone=timezone if timezone is not None else (old.timezone if old else None),
        quiet_hours=quiet_hours if quiet_hours is not None else (old.quiet_hours if old else None),
        author_id=user.id, reason=reason, effective_at=effective_at or now, created_at=now,
    )
    validate_context(patient.id, patient_context(db, patient.id, replace=row))
    db.add(row)
    db.flush()
    record(db, user.username, "thresholds.change", actor_id=user.id, patient_id=patient.id,
           detail={"layer": layer, "version": row.version, "reason": reason,
                   "old": old.rules if old else None, "new": rules,
                   "timezone": row.timezone, "quiet_hours": row.quiet_hours})
    return row
