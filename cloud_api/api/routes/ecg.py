"""One ECG strip with its server-side analysis, for the dashboard's strip viewer.

The beats and findings come from ``edge_rules.ecg.analyze`` — the same code the gateway's
rules run — so what a clinician sees marked is what the rules saw. Findings are screening
flags for clinician review, never a diagnosis. Access and audit as for readings.
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, HTTPException, Path, status
from pydantic import BaseModel, Field
from sqlalchemy import select

from cloud_api.api.deps import CurrentUser, DbSession, ReadSession
from cloud_api.db.access import visible_patient
from cloud_api.db.audit import record
from cloud_api.db.models import ReadingRow
from edge_rules.ecg import EcgAnalysis, analyze

router = APIRouter(prefix="/api/v1/patients", tags=["ecg"])

_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such patient or strip, or not visible to the caller"},
}


class EcgFinding(BaseModel):
    code: str = Field(description="possible_af | pause", examples=["possible_af"])
    start_s: float
    duration_s: float
    label: str = Field(description="plain wording; a flag for clinician review, not a diagnosis")


class EcgStripOut(BaseModel):
    msg_id: str
    measured_at: str
    simulated: bool
    fs_hz: float
    lead: str
    samples_uv: list[int]
    gaps: list[tuple[int, int]]
    beats: list[int] = Field(description="sample indices of detected beats (QRS)")
    hr_bpm: float | None
    min_hr_bpm: float | None
    max_hr_bpm: float | None
    quality: str
    findings: list[EcgFinding]
    note: str = "Automated screening; findings need clinician review. Not a diagnosis."


def _findings(a: EcgAnalysis) -> list[EcgFinding]:
    out = [EcgFinding(code="possible_af", start_s=s, duration_s=d,
                      label="possible AF — clinician review") for s, d in a.af_windows]
    out += [EcgFinding(code="pause", start_s=s, duration_s=d,
                       label=f"pause {d:.1f} s — clinician review") for s, d in a.pauses]
    return out


@router.get("/{patient_id}/ecg/{msg_id}", response_model=EcgStripOut, responses=_NOT_FOUND)
def ecg_strip(
    patient_id: str, user: CurrentUser, db: DbSession, reader: ReadSession,
    msg_id: Annotated[str, Path(max_length=26)],
) -> EcgStripOut:
    # Queries through the read session; only the audit row takes the write lock (briefly).
    if visible_patient(reader, user, patient_id) is None:
        record(db, user.username, "ecg.denied", actor_id=user.id, patient_id=patient_id[:64])
        db.commit()
        raise HTTPException(status.HTTP_404_NOT_FOUND, "patient not found")
    row = reader.scalar(select(ReadingRow).where(
        ReadingRow.msg_id == msg_id, ReadingRow.patient_id == patient_id,
        ReadingRow.kind == "ecg"))
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "ECG strip not found")
    body: dict[str, Any] = row.body
    samples = [int(v) for v in body.get("samples_uv", [])]
    fs = float(body["fs_hz"])
    # A sync route runs in the thread pool, so numpy/scipy stay off the event loop.
    result = analyze(np.asarray(samples, dtype=np.float64) / 1000.0, fs)
    record(db, user.username, "ecg.read", actor_id=user.id, patient_id=patient_id,
           detail={"msg_id": msg_id})
    db.commit()
    return EcgStripOut(
        msg_id=row.msg_id, measured_at=row.measured_at.isoformat(), simulated=row.simulated,
        fs_hz=fs, lead=str(body.get("lead", "I")), samples_uv=samples,
        gaps=[(int(a), int(b)) for a, b in body.get("gaps", [])],
        beats=[int(b) for b in result.beats], hr_bpm=result.hr_bpm,
        min_hr_bpm=result.min_hr_bpm, max_hr_bpm=result.max_hr_bpm,
        quality=result.quality.value,
        findings=_findings(result),
    )
