"""Refresh tokens: opaque random strings, stored only as sha256, rotated on every use.

A refresh token is single-use. Using it revokes it and issues its successor in the same
family; presenting a token that was already rotated (a stolen copy racing the owner)
revokes the whole family, so both parties must log in again. Logout revokes the family.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cloud_api.db.access_models import RefreshToken
from cloud_api.db.models import User
from vitals.readings import now_utc


class RefreshError(ValueError):
    """Unknown, expired, revoked or reused refresh token."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_refresh(db: Session, user: User, ttl_s: int, family: str | None = None) -> str:
    token = secrets.token_urlsafe(32)
    now = now_utc()
    db.add(RefreshToken(
        user_id=user.id, token_hash=_digest(token), family=family or secrets.token_hex(16),
        issued_at=now, expires_at=now + timedelta(seconds=ttl_s), revoked_at=None,
    ))
    db.flush()
    return token


def _revoke_family(db: Session, family: str) -> None:
    db.execute(update(RefreshToken).where(
        RefreshToken.family == family, RefreshToken.revoked_at.is_(None)
    ).values(revoked_at=now_utc()))


def rotate_refresh(db: Session, token: str, ttl_s: int) -> tuple[User, str]:
    """Spend ``token``; return its user and the successor token."""
    row = db.scalar(select(RefreshToken).where(RefreshToken.token_hash == _digest(token)))
    if row is None:
        raise RefreshError("unknown refresh token")
    if row.revoked_at is not None:
        _revoke_family(db, row.family)  # reuse of a spent token: assume theft
        raise RefreshError("refresh token was already used or revoked")
    if row.expires_at <= now_utc():
        raise RefreshError("refresh token expired")
    user = db.get(User, row.user_id)
    if user is None or user.disabled:
        raise RefreshError("user disabled")
    row.revoked_at = now_utc()
    return user, issue_refresh(db, user, ttl_s, family=row.family)


def revoke_refresh(db: Session, token: str) -> User | None:
    """Logout: revoke the token's whole family. Unknown tokens are ignored (None)."""
    row = db.scalar(select(RefreshToken).where(RefreshToken.token_hash == _digest(token)))
    if row is None:
        return None
    _revoke_family(db, row.family)
    return db.get(User, row.user_id)
