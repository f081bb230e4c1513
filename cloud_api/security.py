"""Passwords (argon2id), API tokens (JWT, HS256) and login throttling.

Kept free of FastAPI so the CLI, the API and tests share one implementation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()
_ALGORITHM = "HS256"
_ISSUER = "homerpm"
# Verified against when a username does not exist, so a miss costs as much as a hit
# and response time does not reveal which usernames exist.
_DUMMY_HASH = _HASHER.hash("homerpm-not-a-password")


def hash_password(password: str) -> str:
    if not password:
        raise ValueError("password must not be empty")
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check ``password``; with no hash (unknown user) do the same work and say no."""
    try:
        matches = _HASHER.verify(password_hash or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    return matches and password_hash is not None


class TokenError(ValueError):
    """A bearer token that is missing, malformed, expired or forged."""


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: int
    role: str
    expires_at: datetime


def issue_token(key: str, user_id: int, role: str, ttl_s: int) -> tuple[str, datetime]:
    now = datetime.now(UTC)
    expires = now + timedelta(seconds=ttl_s)
    claims: dict[str, Any] = {
        "sub": str(user_id), "role": role, "iat": now, "exp": expires, "iss": _ISSUER,
    }
    return jwt.encode(claims, key, algorithm=_ALGORITHM), expires


def read_token(key: str, token: str) -> TokenClaims:
    try:
        claims = jwt.decode(
            token, key, algorithms=[_ALGORITHM], issuer=_ISSUER,
            options={"require": ["sub", "exp", "iat", "iss"]},
        )
        return TokenClaims(
            int(claims["sub"]), str(claims.get("role", "")),
            datetime.fromtimestamp(int(claims["exp"]), UTC),
        )
    except (jwt.PyJWTError, ValueError, KeyError) as exc:
        raise TokenError(str(exc)) from None


@dataclass(frozen=True)
class LoginAttempt:
    """One login of a (username, client) pair, as the audit log recorded it."""

    at: datetime
    ok: bool


def lockout_remaining_s(
    attempts: Iterable[LoginAttempt], now: datetime, max_failures: int, lockout_s: float
) -> float:
    """Seconds until the pair may try again (0 when allowed), from its attempts newest first.

    Locked out once ``max_failures`` failures follow each other (no success between them)
    within ``lockout_s``; the lock ends ``lockout_s`` after the latest of them. Refused
    attempts are not failures, so trying on does not extend the lock."""
    horizon = now - timedelta(seconds=lockout_s)
    failures: list[datetime] = []
    for attempt in attempts:
        if attempt.ok or attempt.at <= horizon:
            break
        failures.append(attempt.at)
    if len(failures) < max_failures:
        return 0.0
    return max(0.0, (failures[0] - horizon).total_seconds())
