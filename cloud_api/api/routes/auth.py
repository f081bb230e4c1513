"""Login (OAuth2 password flow → short-lived JWT + rotating refresh token), refresh, logout."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import select

from cloud_api.api.access_schemas import RefreshIn, TokenPairOut
from cloud_api.api.deps import DbSession, get_settings
from cloud_api.db.audit import record
from cloud_api.db.login_attempts import recent_login_attempts
from cloud_api.db.models import User
from cloud_api.db.tokens import RefreshError, issue_refresh, revoke_refresh, rotate_refresh
from cloud_api.security import issue_token, lockout_remaining_s, verify_password
from vitals.readings import now_utc

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post(
    "/token", response_model=TokenPairOut,
    responses={401: {"description": "wrong username or password"},
               429: {"description": "too many failures; see Retry-After"}},
)
def token(
    request: Request, db: DbSession, form: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> TokenPairOut:
    settings = get_settings(request)
    client = request.client.host if request.client else "unknown"
    # Counted from the audit log (shared by every replica), in this write transaction.
    now, lockout_s = now_utc(), settings.login_lockout_s
    wait = lockout_remaining_s(recent_login_attempts(db, form.username, client, now, lockout_s),
                               now, settings.login_max_failures, lockout_s)
    if wait > 0:
        log.warning("login for %r from %s throttled (%.0f s left)", form.username, client, wait)
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, "too many failed logins",
                            headers={"Retry-After": str(int(wait) + 1)})
    user = db.scalar(select(User).where(User.username == form.username))
    ok = verify_password(user.password_hash if user else None, form.password)
    if not ok or user is None or user.disabled:
        log.warning("failed login for %r from %s", form.username, client)
        record(db, form.username[:64], "login.failed", detail={"client": client})
        db.commit()
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong username or password",
                            headers={"WWW-Authenticate": "Bearer"})
    record(db, user.username, "login", actor_id=user.id, detail={"client": client})
    refresh = issue_refresh(db, user, settings.refresh_ttl_s)
    db.commit()
    return _pair(request, user, refresh)


def _pair(request: Request, user: User, refresh: str) -> TokenPairOut:
    settings = get_settings(request)
    jwt, _ = issue_token(settings.token_key(), user.id, user.role, settings.jwt_ttl_s)
    return TokenPairOut(access_token=jwt, expires_in=settings.jwt_ttl_s, refresh_token=refresh,
                        refresh_expires_in=settings.refresh_ttl_s)


@router.post("/refresh", response_model=TokenPairOut,
             responses={401: {"description": "unknown, expired, revoked or reused token"}})
def refresh(request: Request, db: DbSession, body: RefreshIn) -> TokenPairOut:
    """Spend a refresh token for a new access token and a new refresh token (rotation).
    Presenting an already-spent token revokes its whole family (theft detection)."""
    try:
        ttl = get_settings(request).refresh_ttl_s
        user, successor = rotate_refresh(db, body.refresh_token, ttl)
    except RefreshError as exc:
        record(db, "unknown", "token.refresh.failed", detail={"reason": str(exc)})
        db.commit()
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc),
                            headers={"WWW-Authenticate": "Bearer"}) from None
    record(db, user.username, "token.refresh", actor_id=user.id)
    db.commit()
    return _pair(request, user, successor)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(db: DbSession, body: RefreshIn) -> None:
    """Revoke the refresh token and every token rotated from the same login. Access tokens
    expire on their own within ``HOMERPM_JWT_TTL_S``."""
    user = revoke_refresh(db, body.refresh_token)
    if user is not None:
        record(db, user.username, "logout", actor_id=user.id)
    db.commit()
