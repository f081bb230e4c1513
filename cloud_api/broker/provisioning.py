"""Gateway MQTT credentials: issue, rotate, revoke; re-render mosquitto's files; bundles.

The secret is returned once (in the bundle) and stored only as mosquitto's ``$7$`` hash.
After every change the password file and ACL in ``broker_auth_dir`` are rewritten from the
database (service accounts' lines already in the file are kept: they are provisioned by
the operator, not by the API) and the broker is told to reload.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import signal
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from cloud_api.broker.mosquitto_auth import (
    SERVICE_PREFIX,
    ServiceAccount,
    ServiceRole,
    check_gateway_username,
    hash_password,
    new_secret,
    render_acl,
    render_password_file,
    write_atomically,
)
from cloud_api.db.access_models import DeviceRow, GatewayCredential
from cloud_api.db.models import Gateway
from cloud_api.settings import CloudSettings
from vitals.readings import now_utc

log = logging.getLogger(__name__)

PASSWORD_FILE = "passwords"
ACL_FILE = "acl"


class BrokerReloadError(RuntimeError):
    """The auth files were written but the broker could not be told to reload them."""


def set_secret(db: Session, gateway_id: str) -> str:
    """Issue (or rotate to) a fresh secret; return it — the only time it exists in clear."""
    check_gateway_username(gateway_id)
    secret = new_secret()
    cred = db.get(GatewayCredential, gateway_id)
    if cred is None:
        cred = GatewayCredential(gateway_id=gateway_id, mqtt_hash="", issued_at=now_utc())
        db.add(cred)
    cred.mqtt_hash = hash_password(secret)
    cred.issued_at = now_utc()
    cred.revoked_at = None
    db.flush()
    return secret


def revoke_secret(db: Session, gateway_id: str) -> bool:
    cred = db.get(GatewayCredential, gateway_id)
    if cred is None or cred.revoked_at is not None:
        return False
    cred.revoked_at = now_utc()
    db.flush()
    return True


def _service_lines(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    kept = {}
    for line in path.read_text().splitlines():
        user, sep, hashed = line.partition(":")
        if sep and user.startswith(SERVICE_PREFIX):
            kept[user] = hashed
    return kept


def render_broker_files(db: Session, auth_dir: Path, services: Mapping[str, str]) -> None:
    """Rewrite the password file (active gateways + existing service lines) and the ACL."""
    auth_dir.mkdir(parents=True, exist_ok=True)
    hashes = _service_lines(auth_dir / PASSWORD_FILE)
    for cred in db.scalars(select(GatewayCredential).where(GatewayCredential.revoked_at.is_(None))):
        hashes[cred.gateway_id] = cred.mqtt_hash
    accounts = [ServiceAccount(user, ServiceRole(role)) for user, role in services.items()]
    write_atomically(auth_dir / PASSWORD_FILE, render_password_file(hashes))
    write_atomically(auth_dir / ACL_FILE, render_acl(accounts))


def reload_broker(settings: CloudSettings) -> None:
    if settings.broker_pid_file is not None:
        try:
            os.kill(int(settings.broker_pid_file.read_text().strip()), signal.SIGHUP)
        except (OSError, ValueError) as exc:
            raise BrokerReloadError(f"cannot signal the broker: {exc}") from None
    if settings.broker_reload_command:
        done = subprocess.run(shlex.split(settings.broker_reload_command), capture_output=True,
                              text=True, timeout=30, check=False)
        if done.returncode != 0:
            raise BrokerReloadError(f"reload command failed: {done.stderr.strip()[:200]}")


def sync_broker(db: Session, settings: CloudSettings) -> str | None:
    """Render and reload if a broker auth dir is configured; return a problem or None."""
    if settings.broker_auth_dir is None:
        return "broker_auth_dir not configured: broker files not written"
    render_broker_files(db, settings.broker_auth_dir, settings.broker_services)
    try:
        reload_broker(settings)
    except BrokerReloadError as exc:
        log.error("%s", exc)
        return str(exc)
    return None


@dataclass(frozen=True, slots=True)
class Bundle:
    """Everything a gateway needs to connect, as returned once after provisioning/rotation."""

    gateway_id: str
    broker_url: str
    username: str
    password: str
    ca_cert: str | None
    patients: list[str]
    devices: list[dict[str, str | None]] = field(default_factory=list)

    def to_toml(self) -> str:
        q = json.dumps  # JSON strings are valid TOML basic strings
        lines = [
            "# HomeRPM gateway bundle: keep secret (contains the MQTT password).",
            "[gateway]", f"id = {q(self.gateway_id)}", f"patients = {q(self.patients)}", "",
            "[mqtt]", f"url = {q(self.broker_url)}", f"username = {q(self.username)}",
            f"password = {q(self.password)}",
        ]
        if self.ca_cert:
            lines.append(f"ca_cert = {q(self.ca_cert)}")
        for device in self.devices:
            lines += ["", "[[devices]]"]
            lines += [f"{k} = {q(v)}" for k, v in device.items() if v is not None]
        return "\n".join(lines) + "\n"


def build_bundle(db: Session, gateway: Gateway, secret: str, settings: CloudSettings) -> Bundle:
    ca = settings.broker_ca_file.read_text() if settings.broker_ca_file else None
    devices = db.scalars(select(DeviceRow).where(DeviceRow.gateway_id == gateway.id)
                         .order_by(DeviceRow.id))
    return Bundle(
        gateway_id=gateway.id, broker_url=settings.broker_public_url, username=gateway.id,
        password=secret, ca_cert=ca, patients=sorted(p.id for p in gateway.patients),
        devices=[device_dict(d) for d in devices],
    )


def device_dict(d: DeviceRow) -> dict[str, str | None]:
    return {"id": str(d.id), "patient": d.patient_id, "kind": d.kind, "make": d.make,
            "model": d.model, "address": d.address, "serial": d.serial}
