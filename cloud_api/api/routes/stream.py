"""``GET /api/v1/stream``: Server-Sent Events of alert activity the caller may see.

Events come from the ``alert_activity`` table, not from process memory, so a dashboard
connected to any API replica sees what every replica and ingest worker wrote. The event
id is the activity id: reconnecting with ``Last-Event-ID`` resumes right after it.
A comment line is sent every ``sse_keepalive_s`` to keep proxies from closing the stream.
Access is re-checked on every poll (a disabled user's stream ends); the stream also ends
when the bearer token expires, so a revoked session cannot listen forever.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cloud_api.alerting.models import AlertActivity
from cloud_api.api.deps import CurrentUser, ReadAudit, get_settings, oauth2
from cloud_api.db.access import visible_patients
from cloud_api.db.models import Patient, User
from cloud_api.security import read_token
from vitals.readings import now_utc

router = APIRouter(prefix="/api/v1", tags=["stream"])


def _batch(sessions: sessionmaker[Session], user_id: int, after: int) -> list[AlertActivity]:
    with sessions() as db:
        user = db.get(User, user_id)
        if user is None or user.disabled:
            raise PermissionError("user disabled")
        patients = visible_patients(user).with_only_columns(Patient.id).scalar_subquery()
        return list(db.scalars(select(AlertActivity).where(
            AlertActivity.id > after, AlertActivity.patient_id.in_(patients))
            .order_by(AlertActivity.id).limit(200)))


def _latest(sessions: sessionmaker[Session]) -> int:
    with sessions() as db:
        return db.scalar(select(AlertActivity.id).order_by(AlertActivity.id.desc()).limit(1)) or 0


def _frame(a: AlertActivity) -> str:
    data = {"id": a.id, "alert_id": a.alert_id, "patient_id": a.patient_id, "kind": a.kind,
            "at": a.at.isoformat(), "actor": a.actor, "detail": a.detail}
    return f"id: {a.id}\nevent: alert.{a.kind}\ndata: {json.dumps(data)}\n\n"


@router.get("/stream", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}}})
async def stream(
    request: Request, user: CurrentUser, audit: ReadAudit,
    token: Annotated[str, Depends(oauth2)],
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    after: Annotated[int | None, Query(description="start after this event id")] = None,
) -> StreamingResponse:
    """Alert events (`alert.raised`, `.delivered`, `.acknowledged`, `.resolved`, …).
    Without `Last-Event-ID` (or `after`) the stream starts with new events only. The stream
    ends when the token expires; reconnect with a fresh token and `Last-Event-ID`."""
    settings = get_settings(request)
    expires_at = read_token(settings.token_key(), token).expires_at
    # Polls only read: read sessions take no SQLite write lock (one poll per stream per
    # sse_poll_s would otherwise queue behind, and in front of, every writer).
    sessions: sessionmaker[Session] = request.app.state.read_sessions
    # Written behind, like every read's audit event, and off the event loop (the recorder
    # writes synchronously when its queue is full): a write waiting for SQLite's write lock
    # here would stall every request of this process, including the one holding that lock
    # until its session closes.
    await asyncio.to_thread(audit.record, user.username, "stream.open", actor_id=user.id,
                            detail={"last_event_id": last_event_id})
    start = after if after is not None else (
        int(last_event_id) if last_event_id and last_event_id.isdigit() else None)
    user_id = user.id
    # Fix the starting point before the response headers go out: a client that sees the
    # stream open must not miss an event written a moment later (the cursor used to be taken
    # inside the generator, after the headers, so such an event could be skipped).
    first = start if start is not None else await asyncio.to_thread(_latest, sessions)

    async def events() -> AsyncIterator[str]:
        cursor = first
        yield f"retry: 2000\n: connected, after {cursor}\n\n"
        idle = 0.0
        while not await request.is_disconnected() and now_utc() < expires_at:
            try:
                batch = await asyncio.to_thread(_batch, sessions, user_id, cursor)
            except PermissionError:
                return
            for a in batch:
                cursor = a.id
                yield _frame(a)
            if batch:
                idle = 0.0
                continue
            await asyncio.sleep(settings.sse_poll_s)
            idle += settings.sse_poll_s
            if idle >= settings.sse_keepalive_s:
                idle = 0.0
                yield ": keep-alive\n\n"

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
