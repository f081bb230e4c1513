"""``GET /healthz``: 200 with each component's state, 503 when the database is down."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response, status
from sqlalchemy import text

from cloud_api.api.schemas import ComponentHealth, HealthOut
from cloud_api.db.reads import last_received_at
from vitals.readings import now_utc

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthOut,
            responses={503: {"model": HealthOut, "description": "database unreachable"}})
def healthz(request: Request, response: Response) -> HealthOut:
    engine = request.app.state.engine
    try:
        with request.app.state.sessions() as db:
            db.execute(text("SELECT 1"))
            last = last_received_at(db)
    except Exception as exc:  # any failure to reach the DB is "down", reported not raised
        log.warning("healthz: database down: %s", exc)
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return HealthOut(status="down", components={
            "database": ComponentHealth(status="down", detail={"error": type(exc).__name__}),
        })
    if last is None:
        ingest = ComponentHealth(status="idle", detail={"last_reading_received_at": None})
    else:
        ingest = ComponentHealth(status="ok", detail={
            "last_reading_received_at": last.isoformat(),
            "age_s": round((now_utc() - last).total_seconds(), 1),
        })
    return HealthOut(status="ok", components={
        "database": ComponentHealth(status="ok", detail={"dialect": engine.dialect.name}),
        "ingest": ingest,
    })
