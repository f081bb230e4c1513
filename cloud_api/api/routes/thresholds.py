"""Per-patient alert thresholds: read (clinical access), change (clinician / family layer),
each change pushed to the patient's gateways as a retained config."""

from __future__ import annotations

from typing import Any, Literal

import anyio.from_thread
from fastapi import APIRouter, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from cloud_api.api.access_schemas import PushOut, ThresholdIn, ThresholdsOut, ThresholdVersionOut
from cloud_api.api.deps import CurrentUser, DbSession, ReadSession
from cloud_api.api.guards import clinical_patient
from cloud_api.broker import config_push
from cloud_api.db import thresholds
from cloud_api.db.access_models import ConfigPush, ThresholdVersion
from cloud_api.db.audit import record
from cloud_api.db.errors import Forbidden
from cloud_api.db.models import Gateway, Role, User

router = APIRouter(prefix="/api/v1/patients", tags=["thresholds"])
_ERR: dict[int | str, dict[str, Any]] = {403: {"description": "role may not edit this layer"},
        404: {"description": "no such patient, or not visible"},
        422: {"description": "rules invalid, or a family change that is less sensitive"}}
# Who may write which override layer (on patients they can see).
_WRITERS = {"clinician": Role.CLINICIAN.value, "family": Role.FAMILY.value}


def _version_out(db: Session, row: ThresholdVersion) -> ThresholdVersionOut:
    author = db.get(User, row.author_id)
    return ThresholdVersionOut(layer=row.layer, version=row.version, rules=row.rules,
                               timezone=row.timezone, quiet_hours=row.quiet_hours,
                               author=author.username if author else "?", reason=row.reason,
                               effective_at=row.effective_at)


def _out(db: Session, patient_id: str) -> ThresholdsOut:
    history = thresholds.history(db, patient_id)
    current = {}
    for layer in thresholds.LAYERS:
        row = thresholds.current(db, patient_id, layer)
        if row is not None:
            current[layer] = _version_out(db, row)
    pushes = db.scalars(select(ConfigPush).join(Gateway, Gateway.id == ConfigPush.gateway_id)
                        .where(Gateway.patients.any(id=patient_id)).order_by(ConfigPush.gateway_id))
    return ThresholdsOut(
        patient_id=patient_id, current=current,
        history=[_version_out(db, r) for r in history],
        pushes=[PushOut(gateway_id=p.gateway_id, version=p.version, status=p.status,
                        attempts=p.attempts, last_error=p.last_error) for p in pushes])


@router.get("/{patient_id}/thresholds", response_model=ThresholdsOut, responses=_ERR)
def get_thresholds(patient_id: str, user: CurrentUser, db: DbSession,
                   reader: ReadSession) -> ThresholdsOut:
    clinical_patient(reader, user, patient_id, "thresholds", audit=db)
    record(db, user.username, "thresholds.read", actor_id=user.id, patient_id=patient_id)
    db.commit()
    return _out(reader, patient_id)


@router.put("/{patient_id}/thresholds/{layer}", response_model=ThresholdsOut, responses=_ERR)
def put_thresholds(request: Request, patient_id: str, layer: Literal["clinician", "family"],
                   body: ThresholdIn, user: CurrentUser, db: DbSession,
                   reader: ReadSession) -> ThresholdsOut:
    """Replace one override layer with a new version (validated by edge_rules), then publish
    the gateway config (retained, QoS 1). A failed publish is reported in ``pushes`` and
    retried in the background."""
    patient = clinical_patient(db, user, patient_id, "thresholds")
    if user.role != _WRITERS[layer]:
        raise Forbidden(f"the {layer} layer is edited by {_WRITERS[layer]} users only")
    thresholds.set_layer(db, user, patient, layer, body.rules, body.reason,
                         effective_at=body.effective_at, timezone=body.timezone,
                         quiet_hours=body.quiet_hours)
    gateways = list(db.scalars(select(Gateway).where(Gateway.patients.contains(patient))))
    for gateway in gateways:
        config_push.stage(db, gateway)
    db.commit()
    publisher = getattr(request.app.state, "config_publisher", None)
    for gateway in gateways:
        anyio.from_thread.run(config_push.deliver, request.app.state.sessions, publisher,
                              gateway.id)
    reader.rollback()  # end the snapshot taken before our write, so the answer includes it
    return _out(reader, patient_id)
