"""``POST /api/v1/auth/token``: OAuth2 password flow → short-lived JWT bearer token."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import select

from cloud_api.api.deps import DbSession, get_settings
from cloud_api.api.schemas import TokenOut
from cloud_api.db.audit import record
from cloud_api.db.models import User
from cloud_api.security import LoginThrottle, issue_token, verify_password

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post(
    "/token", response_model=TokenOut,
    responses={401: {"description": "wrong username or password"},
               429: {"description": "too many failures; see Retry-After"}},
)
def token(
    request: Request, db: DbSession, form: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> TokenOut:
    settings = get_settings(request)
    throttle: LoginThrottle = request.app.state.throttle
    client = request.client.host if request.client else "unknown"
    wait = throttle.retry_after(form.username, client)
    if wait > 0:
        log.warning("login for %r from %s throttled (%.0f s left)", form.username, client, wait)
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, "too many failed logins",
                            headers={"Retry-After": str(int(wait) + 1)})
    user = db.scalar(select(User).where(User.username == form.username))
    ok = verify_password(user.password_hash if user else None, form.password)
    if not ok or user is None or user.disabled:
        throttle.failed(form.username, client)
        log.warning("failed login for %r from %s", form.username, client)
        record(db, form.username[:64], "login.failed", detail={"client": client})
        db.commit()
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong username or password",
                            headers={"WWW-Authenticate": "Bearer"})
    throttle.succeeded(form.username, client)
    record(db, user.username, "login", actor_id=user.id, detail={"client": client})
    db.commit()
    jwt, _ = issue_token(settings.token_key(), user.id, user.role, settings.jwt_ttl_s)
    return TokenOut(access_token=jwt, expires_in=settings.jwt_ttl_s)
