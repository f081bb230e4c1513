"""Passwords, tokens and the login throttle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cloud_api.security import (
    LoginAttempt,
    TokenError,
    hash_password,
    issue_token,
    lockout_remaining_s,
    read_token,
    verify_password,
)

KEY = "k" * 32


def test_password_hash_is_argon2id_and_verifies() -> None:
    hashed = hash_password("s3cret")
    assert hashed.startswith("$argon2id$") and "s3cret" not in hashed
    assert verify_password(hashed, "s3cret")
    assert not verify_password(hashed, "S3cret")
    assert not verify_password(None, "s3cret")
    assert not verify_password("garbage", "s3cret")


def test_token_roundtrip_and_rejections() -> None:
    token, _ = issue_token(KEY, 7, "nurse", ttl_s=60)
    claims = read_token(KEY, token)
    assert (claims.user_id, claims.role) == (7, "nurse")
    with pytest.raises(TokenError):
        read_token("x" * 32, token)  # forged with another key
    expired, _ = issue_token(KEY, 7, "nurse", ttl_s=-1)
    with pytest.raises(TokenError):
        read_token(KEY, expired)
    with pytest.raises(TokenError):
        read_token(KEY, "not.a.token")


def test_throttle_locks_out_then_forgives() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)

    def at(s: float, ok: bool = False) -> LoginAttempt:
        return LoginAttempt(t0 + timedelta(seconds=s), ok)

    def remaining(attempts: list[LoginAttempt], now_s: float) -> float:
        newest_first = sorted(attempts, key=lambda a: a.at, reverse=True)
        return lockout_remaining_s(newest_first, t0 + timedelta(seconds=now_s), 2, 60)

    assert remaining([at(0)], 1) == 0
    assert remaining([at(0), at(10)], 10) == 60  # the lock runs from the latest failure
    assert remaining([at(0), at(10)], 40) == 30
    assert remaining([at(0), at(10)], 71) == 0  # forgiven after the lock-out
    assert remaining([at(0), at(5, ok=True), at(10)], 10) == 0  # a success in between resets
    assert remaining([at(-70), at(10)], 10) == 0  # the older failure is outside the window
    assert remaining([at(0), at(10), at(20, ok=True)], 21) == 0
