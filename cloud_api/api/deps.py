"""Request-scoped dependencies: a DB session per request and the authenticated user."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from cloud_api.db.audit_writer import AuditRecorder
from cloud_api.db.models import User
from cloud_api.security import TokenError, read_token
from cloud_api.settings import CloudSettings

log = logging.getLogger(__name__)

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token")


def get_settings(request: Request) -> CloudSettings:
    settings: CloudSettings = request.app.state.settings
    return settings


def get_db(request: Request) -> Iterator[Session]:
    """A session per request. Handlers commit themselves, before answering, so an audit
    row is durable before the data it records leaves the server; anything not committed
    is rolled back when the session closes."""
    with request.app.state.sessions() as db:
        yield db


DbSession = Annotated[Session, Depends(get_db)]


def get_read_db(request: Request) -> Iterator[Session]:
    """A query-only session (no write lock on SQLite); write audit rows through DbSession."""
    with request.app.state.read_sessions() as db:
        yield db


ReadSession = Annotated[Session, Depends(get_read_db)]


def get_audit(request: Request) -> AuditRecorder:
    """Where reads record their audit event (written behind, in batches; see audit_writer)."""
    recorder: AuditRecorder = request.app.state.audit
    return recorder


ReadAudit = Annotated[AuditRecorder, Depends(get_audit)]


def current_user(
    request: Request, db: ReadSession, token: Annotated[str, Depends(oauth2)]
) -> User:
    unauthorized = HTTPException(
        status.HTTP_401_UNAUTHORIZED, "invalid or expired token",
        headers={"WWW-Authenticate": "Bearer"},
    )
    try:
        claims = read_token(get_settings(request).token_key(), token)
    except TokenError as exc:
        log.info("rejected token: %s", exc)
        raise unauthorized from None
    # Looked up on every request so that disabling a user takes effect at once. Through the
    # read session: authenticating must not take SQLite's write lock for the whole request.
    user = db.get(User, claims.user_id)
    if user is None or user.disabled:
        raise unauthorized
    return user


CurrentUser = Annotated[User, Depends(current_user)]
