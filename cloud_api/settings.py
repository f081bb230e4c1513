"""Cloud settings, read from ``HOMERPM_*`` environment variables (and CLI flags on top).

One settings object serves the API and the ingest worker so that every process of a
deployment agrees on the database and the token secret.
"""

from __future__ import annotations

import logging
import secrets
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

log = logging.getLogger(__name__)

DEFAULT_DATABASE_URL = "sqlite:///homerpm-cloud.db"


class CloudSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOMERPM_", extra="ignore")

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="SQLAlchemy URL: sqlite:///path.db (default) or postgresql://…",
    )
    jwt_secret: SecretStr | None = Field(
        default=None,
        description="HMAC key for API tokens; every API replica must share it. "
        "Unset: a random per-process key (tokens die with the process).",
    )
    jwt_ttl_s: int = Field(default=900, ge=60, le=24 * 3600, description="token lifetime")
    login_max_failures: int = Field(default=5, ge=1, description="failures before lock-out")
    login_lockout_s: float = Field(default=300.0, ge=0, description="lock-out duration")
    migrate_on_start: bool = Field(default=True, description="run Alembic upgrade at start-up")
    refresh_ttl_s: int = Field(default=14 * 24 * 3600, ge=300, description="refresh token life")
    # Broker: where provisioning writes mosquitto's password_file / acl_file, and how it
    # tells the broker to reload them (SIGHUP to the pid in the pid file, or a command).
    broker_auth_dir: Path | None = Field(default=None, description="mosquitto auth file dir")
    broker_pid_file: Path | None = Field(default=None, description="mosquitto pid file")
    broker_reload_command: str | None = Field(
        default=None, description="run after rewriting the files, e.g. 'systemctl reload mosquitto'"
    )
    broker_public_url: str = Field(
        default="mqtts://localhost:8883", description="broker URL written into gateway bundles"
    )
    broker_ca_file: Path | None = Field(default=None, description="CA cert put into bundles")
    broker_services: dict[str, str] = Field(
        default={"svc-ingest": "ingest", "svc-api": "api"},
        description="service account → role (ingest | api) for the ACL",
    )
    # How the API itself publishes retained configs (svc-api account). Unset: configs are
    # staged as pending and published once it is set.
    config_mqtt_url: str | None = Field(
        default=None, description="mqtt://svc-api:pw@host:1883 (HOMERPM_CONFIG_MQTT_URL)"
    )
    config_retry_s: float = Field(default=30.0, gt=0, description="retry pending config pushes")
    # Audit of reads: write-behind batches (cloud_api/db/audit_writer.py, docs/api.md "Audit")
    audit_write_behind: bool = Field(default=True, description="false: every read's audit row "
                                     "is committed before the response (slower)")
    audit_flush_s: float = Field(default=0.1, gt=0, le=5, description="a read's audit row is "
                                 "written at most this long after the response")
    audit_max_pending: int = Field(default=20_000, ge=1, description="queued read-audit events "
                                   "before callers write their own row synchronously")
    # Alerting (cloud_api/alerting, docs/alerts.md)
    alerting_loops: bool = Field(default=True, description="run escalation, delivery and "
                                 "cloud rules inside the API (safe on every replica)")
    gc_tuning: bool = Field(default=False, description="collect garbage less often and freeze "
                            "start-up objects (cloud_api/gc_tuning.py); `homerpm cloud api` "
                            "turns it on, HOMERPM_GC_TUNING=false turns it off")
    alerting_tick_s: float = Field(default=2.0, gt=0, description="alerting loop period")
    sse_poll_s: float = Field(default=0.5, gt=0, description="SSE stream polls the event table")
    sse_keepalive_s: float = Field(default=15.0, gt=0, description="SSE comment interval")
    smtp_url: str | None = Field(default=None, description="smtp://host:port; unset: no e-mail")
    smtp_sender: str = Field(default="homerpm@localhost", description="From: of alert e-mail")
    gateway_offline_after_s: float = Field(default=600.0, gt=0)
    no_data_after_s: float = Field(default=48 * 3600.0, gt=0)
    patient_tz: str = Field(default="UTC", description="default patient timezone (reports)")

    def token_key(self) -> str:
        """The JWT key; generated once per process when none is configured."""
        if self.jwt_secret is None:
            log.warning("HOMERPM_JWT_SECRET is not set: using a random per-process key")
            self.jwt_secret = SecretStr(secrets.token_urlsafe(32))
        return self.jwt_secret.get_secret_value()
