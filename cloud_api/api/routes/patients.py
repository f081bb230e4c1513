"""Patients and their readings. Every read of patient data is audited (written behind in
batches by the app's AuditRecorder, so a read takes no write lock; see db/audit_writer.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import Response

from cloud_api.api.access_schemas import UnitPrefs
from cloud_api.api.deps import CurrentUser, ReadAudit
from cloud_api.api.rendering import dump, json_response
from cloud_api.api.routes.me import prefs_of
from cloud_api.api.schemas import PatientOut, ReadingsPageOut
from cloud_api.db.access import can_read_patient, visible_patients
from cloud_api.db.models import Patient
from cloud_api.db.reads import CursorError, readings_page
from vitals.readings import ReadingKind
from vitals.units import GlucoseUnit, PressureUnit, from_mgdl, from_mmhg

router = APIRouter(prefix="/api/v1/patients", tags=["patients"])

_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such patient, or not visible to the caller"},
}
# Fields every reading has; the rest of the wire body is the kind's own values.
_COMMON = {"msg_id", "kind", "patient", "device", "measured_at", "received_at", "simulated"}


@router.get("", response_model=list[PatientOut])
async def list_patients(request: Request, user: CurrentUser, audit: ReadAudit) -> Response:
    # async with one thread hop for the query; the body is pre-serialised (api/rendering.py).
    def work() -> bytes:
        with request.app.state.read_sessions() as reader:
            rows = reader.execute(visible_patients(user).with_only_columns(
                Patient.id, Patient.display_name, Patient.mrn).order_by(Patient.id)).all()
        # Unpacked by position: attribute look-ups on 1 000 SQLAlchemy Rows cost ms.
        patients = [{"id": pid, "display_name": name, "mrn": mrn} for pid, name, mrn in rows]
        audit.record(user.username, "patients.list", actor_id=user.id,
                     detail={"patients": [p["id"] for p in patients]})
        return dump(patients)

    return json_response(await anyio.to_thread.run_sync(work))


@router.get("/{patient_id}/readings", response_model=ReadingsPageOut, responses=_NOT_FOUND)
async def list_readings(
    request: Request, patient_id: str, user: CurrentUser, audit: ReadAudit,
    since: Annotated[datetime | None, Query(description="measured_at ≥ since (ISO 8601)")] = None,
    until: Annotated[datetime | None, Query(description="measured_at < until (ISO 8601)")] = None,
    kind: Annotated[list[ReadingKind] | None, Query(description="repeat to allow several")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> Response:
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                                f"{name} must carry a time zone, e.g. 2026-11-25T08:00:00Z")
    kinds = [k.value for k in kind or ()]

    # The whole read in ONE thread hop (access check, page, preferences, audit, JSON):
    # the handler is the API's hottest path and each hop costs a context switch.
    def work() -> bytes:
        with request.app.state.read_sessions() as reader:
            if not can_read_patient(reader, user, patient_id):
                audit.record(user.username, "readings.denied", actor_id=user.id,
                             patient_id=patient_id[:64])
                raise HTTPException(status.HTTP_404_NOT_FOUND, "patient not found")
            try:
                page = readings_page(reader, patient_id, since=since, until=until, kinds=kinds,
                                     limit=limit, cursor=cursor)
            except CursorError as exc:
                raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
            prefs = prefs_of(reader, user.id)
        audit.record(user.username, "readings.read", actor_id=user.id, patient_id=patient_id,
                     detail={"count": len(page.rows), "kinds": kinds,
                             "cursor": cursor is not None,
                             "since": since.isoformat() if since else None,
                             "until": until.isoformat() if until else None})
        return dump({"items": [_reading_out(r, prefs) for r in page.rows],
                     "next_cursor": page.next_cursor})

    return json_response(await anyio.to_thread.run_sync(work))


# Looked up, not constructed per row: Enum(value) is surprisingly slow in a hot loop.
_PRESSURE = {u.value: u for u in PressureUnit}
_GLUCOSE = {u.value: u for u in GlucoseUnit}


def _display(kind: str, body: dict[str, Any], prefs: UnitPrefs) -> dict[str, Any] | None:
    """The values a clinician reads, in their preferred units (storage stays canonical)."""
    if kind == "blood_pressure":
        unit = _PRESSURE[prefs.bp_unit]
        out: dict[str, Any] = {
            k: round(from_mmhg(body[k], unit), 1)
            for k in ("systolic", "diastolic", "mean_arterial") if body.get(k) is not None
        }
        return {**out, "unit": unit.value}
    if kind == "glucose":
        gunit = _GLUCOSE[prefs.glucose_unit]
        value = from_mgdl(body["mg_dl"], gunit)
        digits = 1 if gunit is GlucoseUnit.MMOL_L else 0
        return {"glucose": round(value, digits), "unit": gunit.value}
    return None


def _reading_out(row: Sequence[Any], prefs: UnitPrefs | None = None) -> dict[str, Any]:
    """A ``ReadingOut`` as a dict, its fields in the model's order (see api/rendering.py),
    from a row of ``READING_COLUMNS``: unpacked by position, which is ~50× cheaper than
    nine attribute look-ups on a SQLAlchemy Row."""
    msg_id, _, gateway_id, kind, measured_at, received_at, device_key, simulated, body = row
    device = body.get("device", {})
    return {
        "msg_id": msg_id, "kind": kind, "measured_at": measured_at,
        "received_at": received_at, "gateway_id": gateway_id, "simulated": simulated,
        "device": {"make": device.get("make", "?"), "model": device.get("model", "?"),
                   "serial": device.get("serial"), "address": device.get("address"),
                   "key": device_key},
        "values": {k: v for k, v in body.items() if k not in _COMMON},
        "display": _display(kind, body, prefs) if prefs is not None else None,
    }
