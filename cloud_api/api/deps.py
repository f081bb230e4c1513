"""Request-scoped dependencies: a DB session per request and the authenticated user."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Annotated

import anyio
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session, sessionmaker

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


async def get_audit(request: Request) -> AuditRecorder:
    """Where reads record their audit event (written behind, in batches; see audit_writer)."""
    recorder: AuditRecorder = request.app.state.audit
    return recorder


ReadAudit = Annotated[AuditRecorder, Depends(get_audit)]


async def current_user(request: Request, token: Annotated[str, Depends(oauth2)]) -> User:
    """The caller, looked up on every request so that disabling a user takes effect at once.

    ``async`` with ONE thread hop for the look-up (in its own short read session: no write
    lock on SQLite): a sync dependency on a session dependency cost three hops per request."""
    unauthorized = HTTPException(
        status.HTTP_401_UNAUTHORIZED, "invalid or expired token",
        headers={"WWW-Authenticate": "Bearer"},
    )
    try:
        claims = read_token(get_settings(request).token_key(), token)
    except TokenError as exc:
        log.info("rejected token: %s", exc)
        raise unauthorized from None
    user = await anyio.to_thread.run_sync(_load_user, request.app.state.read_sessions,
                                          claims.user_id)
    if user is None or user.disabled:
        raise unauthorized
    return user


def _load_user(sessions: sessionmaker[Session], user_id: int) -> User | None:
    with sessions() as db:
        return db.get(User, user_id)


CurrentUser = Annotated[User, Depends(current_user)]
