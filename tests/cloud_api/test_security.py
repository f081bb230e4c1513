"""Passwords, tokens and the login throttle."""

from __future__ import annotations

import pytest

from cloud_api.security import (
    LoginThrottle,
    TokenError,
    hash_password,
    issue_token,
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
    now = [1000.0]
    throttle = LoginThrottle(max_failures=2, lockout_s=60, clock=lambda: now[0])
    throttle.failed("Alice", "10.0.0.1")
    assert throttle.retry_after("alice", "10.0.0.1") == 0
    throttle.failed("alice", "10.0.0.1")
    assert throttle.retry_after("alice", "10.0.0.1") == 60
    assert throttle.retry_after("alice", "10.0.0.2") == 0  # another client is not locked
    now[0] += 61
    assert throttle.retry_after("alice", "10.0.0.1") == 0
