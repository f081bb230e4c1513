"""FHIR R4 read endpoints (searchset Bundles), access-controlled and audited like /api/v1."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from cloud_api.api.deps import CurrentUser, DbSession
from cloud_api.api.guards import clinical_patient
from cloud_api.db.audit import record
from cloud_api.db.errors import Invalid
from cloud_api.fhir import bundle

router = APIRouter(prefix="/fhir", tags=["fhir"])
FHIR_JSON = "application/fhir+json"
MAX_ROWS = 5000
_ERR: dict[int | str, dict[str, Any]] = {
    200: {"content": {FHIR_JSON: {"example": {"resourceType": "Bundle", "type": "searchset"}}},
          "description": "a searchset Bundle"},
    404: {"description": "no such patient, or not visible"},
}


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/fhir"


def _dates(values: list[str]) -> tuple[datetime | None, datetime | None]:
    """``date=geYYYY-MM-DDThh:mm:ssZ`` / ``date=le…`` (the prefixes we support)."""
    ge = le = None
    for raw in values:
        prefix, value = raw[:2], raw[2:]
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise Invalid(f"date={raw!r}: expected ge|le followed by an ISO 8601 instant") from None
        if when.tzinfo is None:
            raise Invalid(f"date={raw!r} must carry a time zone")
        if prefix == "ge":
            ge = when
        elif prefix == "le":
            le = when
        else:
            raise Invalid(f"date={raw!r}: only the ge and le prefixes are supported")
    return ge, le


@router.get("/Patient/{patient_id}/$everything", responses=_ERR, response_class=JSONResponse)
def everything(request: Request, patient_id: str, user: CurrentUser, db: DbSession) -> JSONResponse:
    """The patient, their gateway (PhgDevice), sensors (PhdDevice) and all Observations."""
    patient = clinical_patient(db, user, patient_id, "fhir.everything")
    rows = bundle.reading_rows(db, patient_id, None, None, MAX_ROWS)
    resources = bundle.everything(db, patient, rows)
    record(db, user.username, "fhir.everything", actor_id=user.id, patient_id=patient_id,
           detail={"readings": len(rows)})
    db.commit()
    return JSONResponse(bundle.searchset(_base(request), resources), media_type=FHIR_JSON)


@router.get("/Observation", responses=_ERR, response_class=JSONResponse)
def search_observations(
    request: Request, user: CurrentUser, db: DbSession,
    patient: Annotated[str, Query(max_length=64, description="patient id (or Patient/id)")],
    date: Annotated[list[str] | None, Query(description="ge<instant> and/or le<instant>")] = None,
    count: Annotated[int, Query(alias="_count", ge=1, le=MAX_ROWS)] = 1000,
) -> JSONResponse:
    patient_id = patient.removeprefix("Patient/")
    clinical_patient(db, user, patient_id, "fhir.search")
    ge, le = _dates(date or [])
    rows = bundle.reading_rows(db, patient_id, ge, le, count)
    observations = bundle.observations(rows)
    record(db, user.username, "fhir.search", actor_id=user.id, patient_id=patient_id,
           detail={"readings": len(rows), "date": date or []})
    db.commit()
    return JSONResponse(bundle.searchset(_base(request), observations, self_url=str(request.url)),
                        media_type=FHIR_JSON)
