"""Per-gateway MQTT credentials and topic ACLs, rendered for mosquitto.

Every gateway has its own username (= its gateway id = its MQTT client id) and secret, and the
ACL confines it to its own subtree: it may publish its uplink and status, and read its acks and
config — nothing of any other gateway. Service accounts (``svc-*``) get the fixed rights their
role needs (ingest reads every uplink and writes acks; the API publishes configs).

The files are what mosquitto's ``password_file`` and ``acl_file`` options read. Passwords use
mosquitto's own ``$7$`` format (PBKDF2-HMAC-SHA512, base64 salt and hash), so no plaintext is
ever written. After rewriting, send the broker SIGHUP to reload them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from vitals.topics import PREFIX, check_gateway_id

SERVICE_PREFIX = "svc-"
#: mosquitto_passwd uses 101; more iterations cost only at (re)connect.
PBKDF2_ITERATIONS = 10_000


class ServiceRole(StrEnum):
    INGEST = "ingest"
    API = "api"


# Service rights. Shared subscriptions are authorised on the underlying topic filter.
_SERVICE_RULES: dict[ServiceRole, tuple[str, ...]] = {
    ServiceRole.INGEST: (
        f"topic read {PREFIX}/+/up/#",
        f"topic read {PREFIX}/+/status",
        f"topic write {PREFIX}/+/ack",
    ),
    ServiceRole.API: (
        f"topic write {PREFIX}/+/down/#",
        f"topic read {PREFIX}/+/status",
    ),
}

# Applied to every user; %u is the username, which for a gateway is its gateway id.
_GATEWAY_PATTERNS = (
    f"pattern write {PREFIX}/%u/up/#",
    f"pattern write {PREFIX}/%u/status",
    f"pattern read {PREFIX}/%u/ack",
    f"pattern read {PREFIX}/%u/down/#",
)


@dataclass(frozen=True, slots=True)
class ServiceAccount:
    username: str
    role: ServiceRole

    def __post_init__(self) -> None:
        if not self.username.startswith(SERVICE_PREFIX):
            raise ValueError(f"service account names start with {SERVICE_PREFIX!r}")


def new_secret() -> str:
    """A fresh random MQTT password for a gateway or service (192 bits)."""
    return secrets.token_urlsafe(24)


def check_gateway_username(gateway_id: str) -> str:
    check_gateway_id(gateway_id)
    if gateway_id.startswith(SERVICE_PREFIX):
        raise ValueError(f"gateway ids may not start with {SERVICE_PREFIX!r}")
    return gateway_id


def hash_password(
    password: str, *, iterations: int = PBKDF2_ITERATIONS, salt: bytes | None = None
) -> str:
    """Hash in mosquitto's ``$7$`` PBKDF2-SHA512 format."""
    salt = salt if salt is not None else os.urandom(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_password(password: str, hashed: str) -> bool:
    try:
        _, kind, iterations, salt, digest = hashed.split("$")
    except ValueError:
        return False
    if kind != "7":
        return False
    expected = hashlib.pbkdf2_hmac(
        "sha512", password.encode(), base64.b64decode(salt), int(iterations)
    )
    return hmac.compare_digest(expected, base64.b64decode(digest))


def render_password_file(hashes: Mapping[str, str]) -> str:
    """``username:hash`` lines; ``hashes`` maps each username to :func:`hash_password` output."""
    for username in hashes:
        if ":" in username or not username:
            raise ValueError(f"invalid MQTT username {username!r}")
    return "".join(f"{user}:{hashed}\n" for user, hashed in sorted(hashes.items()))


def render_acl(services: Iterable[ServiceAccount]) -> str:
    lines = [
        "# Written by HomeRPM. Gateways are confined to their own subtree by the patterns.",
        "",
    ]
    for account in sorted(services, key=lambda a: a.username):
        lines += [f"user {account.username}", *_SERVICE_RULES[account.role], ""]
    lines += _GATEWAY_PATTERNS
    return "\n".join(lines) + "\n"


def write_atomically(path: Path, text: str, mode: int = 0o600) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.chmod(mode)
    os.replace(tmp, path)
