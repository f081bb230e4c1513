"""Passwords (argon2id), API tokens (JWT, HS256) and login throttling.

Kept free of FastAPI so the CLI, the API and tests share one implementation.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
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


@dataclass
class LoginThrottle:
    """Lock a (username, client) pair out after repeated failures.

    In-process only: with several API replicas each keeps its own count, which still
    bounds guessing per replica; a shared store is the upgrade path.
    """

    max_failures: int = 5
    lockout_s: float = 300.0
    clock: Callable[[], float] = time.monotonic
    _failures: dict[tuple[str, str], list[float]] = field(default_factory=dict)

    def retry_after(self, username: str, client: str) -> float:
        """Seconds until this pair may try again (0 when allowed)."""
        recent = self._recent((username.lower(), client))
        if len(recent) < self.max_failures:
            return 0.0
        return max(0.0, recent[-1] + self.lockout_s - self.clock())

    def failed(self, username: str, client: str) -> None:
        key = (username.lower(), client)
        self._failures[key] = [*self._recent(key), self.clock()]

    def succeeded(self, username: str, client: str) -> None:
        self._failures.pop((username.lower(), client), None)

    def _recent(self, key: tuple[str, str]) -> list[float]:
        horizon = self.clock() - self.lockout_s
        return [t for t in self._failures.get(key, []) if t > horizon]
