"""Gateway configuration: one TOML file, any key overridable from the environment.

Environment variables win over the file: ``HOMERPM_GATEWAY_<KEY>`` with ``__`` between
nested keys, e.g. ``HOMERPM_GATEWAY_MQTT__PASSWORD`` (names are case-insensitive; a value
that starts with ``[`` or ``{`` is read as JSON). Errors name the offending key, including
an unknown key inside a section that came from the environment; a variable whose first
level is not a gateway key is ignored (the cloud's ``HOMERPM_GATEWAY_OFFLINE_AFTER_S``
shares the prefix). See docs/gateway.md for every key.

The environment is merged here (:func:`env_overrides`) rather than with pydantic-settings:
the same behaviour for our flat use, and the gateway, which runs for months on a Pi,
does not carry that package (and the ``importlib.metadata``/``email`` modules it imports,
≈ 4 MB of RSS) just to read its start-up configuration.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from edge_rules.tables import deep_merge
from vitals.readings import ReadingKind
from vitals.topics import TopicError, check_gateway_id


class ConfigError(ValueError):
    """The configuration cannot be used; the message lists each problem by key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MqttConfig(_Section):
    url: str = Field("mqtt://127.0.0.1:1883", description="mqtt://host:port or mqtts://host:port")
    username: str | None = None
    password: str | None = None
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    keepalive_s: int = Field(30, ge=5, le=3600)
    session_expiry_s: int = Field(7 * 24 * 3600, ge=0)
    will_delay_s: int = Field(60, ge=0)
    reconnect_min_s: float = Field(0.5, gt=0)
    reconnect_max_s: float = Field(30.0, gt=0)
    publish_timeout_s: float = Field(15.0, gt=0)

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ValueError("must look like mqtt://host:port or mqtts://host:port")
        _ = parts.port  # raises ValueError on a bad port
        return value

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def tls(self) -> bool:
        return urlsplit(self.url).scheme == "mqtts"

    @property
    def port(self) -> int:
        return urlsplit(self.url).port or (8883 if self.tls else 1883)

    @model_validator(mode="after")
    def _check_files(self) -> MqttConfig:
        for name in ("ca_file", "cert_file", "key_file"):
            path = getattr(self, name)
            if path is not None and not path.is_file():
                raise ValueError(f"{name} {str(path)!r} does not exist")
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together")
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError("reconnect_max_s must be ≥ reconnect_min_s")
        return self


class OutboxConfig(_Section):
    path: Path = Path("/var/lib/homerpm/outbox.db")
    max_mb: float = Field(500.0, gt=0, description="evict oldest non-alert rows beyond this")
    max_age_days: float = Field(30.0, gt=0, description="evict non-alert rows older than this")
    resend_after_s: float = Field(60.0, gt=0, description="published but unacked → resend")
    resend_max_s: float = Field(1800.0, gt=0, description="cap of the doubling resend wait")
    resend_after_connect_s: float = Field(
        2.0, ge=0, description="after a (re)connect, resend unacked rows this much later")
    batch_max_items: int = Field(200, ge=1, le=1000)
    batch_max_bytes: int = Field(256 * 1024, ge=1024, le=4 * 1024 * 1024)
    window: int = Field(8, ge=1, le=64, description="MQTT publishes in flight")
    max_messages_per_s: float = Field(50.0, ge=0, description="drain rate limit; 0 = none")
    max_unacked: int = Field(20_000, ge=0, description="stop draining beyond this; 0 = no cap")


class RulesSection(_Section):
    """Edge rules; the downlink config may replace profile and patients at runtime."""

    path: Path | None = Field(None, description="rule files (file or dir); default: shipped")
    profile: str | None = Field(None, description="site profile, e.g. china_esc or aha")
    tick_s: float = Field(30.0, gt=0, le=60, description="no-reading evaluation interval")
    patients: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="pseudonym → timezone, quiet_hours, overrides")
    enabled: bool = True


class WebhookConfig(_Section):
    url: str | None = Field(None, description="POST alerts here (http:// or https://)")
    secret: str | None = Field(None, description="HMAC-SHA256 key for X-HomeRPM-Signature")
    min_severity: Literal["info", "warning", "urgent"] = "urgent"
    timeout_s: float = Field(5.0, gt=0)
    backoff_max_s: float = Field(300.0, gt=0)
    max_attempts: int = Field(20, ge=1, description="then the delivery is logged as failed")

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("http", "https"):
            raise ValueError("must be an http:// or https:// URL")
        return value


class StatusPageConfig(_Section):
    enabled: bool = True
    host: str = Field("0.0.0.0", description="listen address (LAN); 127.0.0.1 = this Pi only")
    port: int = Field(8080, ge=0, le=65535, description="0 = any free port (tests)")


class BluetoothConfig(_Section):
    adapter: str = "hci0"
    cursors_path: Path | None = Field(None, description="default: next to the outbox file")


class SimulatorConfig(_Section):
    control_dir: Path | None = Field(
        None, description="simulated GATT devices become one simulated home that plays "
        "`homerpm sim scenario` requests dropped in this directory (the demo)")


SimKind = Literal["scenario", "gatt", "records"]


class DeviceConfig(_Section):
    id: str | None = Field(None, min_length=1, max_length=64, description="default: kind-N")
    kind: ReadingKind
    patient: str = Field(min_length=1, max_length=64, description="patient pseudonym")
    simulated: bool = False
    address: str | None = Field(None, description="BLE address of a real device")
    make: str | None = Field(None, max_length=64, description="default: HomeRPM / BLE name")
    model: str | None = Field(None, max_length=64)
    serial: str | None = Field(None, max_length=64)
    # Simulated devices only:
    interval_s: float = Field(60.0, ge=0, description="simulated: seconds between readings")
    scenario: Literal["normal", "elevated", "hypertensive", "crisis", "hypotensive"] = "normal"
    seed: int | None = Field(None, description="simulated: random seed (reproducible values)")
    count: int = Field(0, ge=0, description="simulated: stop after this many; 0 = forever")
    simulator: SimKind | None = Field(
        None, description="scenario (BP only, default for BP) or gatt (firmware_sim GATT model"
                          " through the in-memory BLE transport; the default for other kinds)")
    ecg_segment_s: float = Field(30.0, ge=5, le=60, description="ECG strip length (AF: 30 s)")

    @model_validator(mode="after")
    def _one_source(self) -> DeviceConfig:
        if self.simulated == (self.address is not None):
            raise ValueError("set exactly one of simulated = true or address = '...'")
        bp_only = ("scenario", "records")
        if self.simulator in bp_only and self.kind is not ReadingKind.BLOOD_PRESSURE:
            raise ValueError(f"simulator = {self.simulator!r} exists for blood_pressure only;"
                             " use 'gatt'")
        if self.simulator is not None and not self.simulated:
            raise ValueError("simulator applies to simulated devices only")
        return self

    @property
    def sim(self) -> SimKind:
        if self.simulator is not None:
            return self.simulator
        return "scenario" if self.kind is ReadingKind.BLOOD_PRESSURE else "gatt"


ENV_PREFIX = "HOMERPM_GATEWAY_"


class GatewayConfig(BaseModel):
    """The whole configuration; :func:`load_config` builds it from TOML + environment."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    gateway_id: str
    status_interval_s: float = Field(60.0, gt=0)
    mqtt: MqttConfig = MqttConfig()
    outbox: OutboxConfig = OutboxConfig()
    devices: tuple[DeviceConfig, ...] = ()
    rules: RulesSection = RulesSection()
    webhook: WebhookConfig = WebhookConfig()
    status_page: StatusPageConfig = StatusPageConfig()
    bluetooth: BluetoothConfig = BluetoothConfig()
    simulator: SimulatorConfig = SimulatorConfig()

    @field_validator("devices")
    @classmethod
    def _name_devices(cls, devices: tuple[DeviceConfig, ...]) -> tuple[DeviceConfig, ...]:
        return tuple(
            d if d.id else d.model_copy(update={"id": f"{d.kind.value}-{n}"})
            for n, d in enumerate(devices, 1)
        )

    @field_validator("gateway_id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        try:
            return check_gateway_id(value)
        except TopicError as exc:
            raise ValueError(str(exc)) from None

    @model_validator(mode="after")
    def _unique_devices(self) -> GatewayConfig:
        ids = [d.id for d in self.devices]
        dupes = sorted({i for i in ids if i is not None and ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate device ids: {', '.join(dupes)}")
        addrs = [d.address.upper() for d in self.devices if d.address]
        dupes = sorted({a for a in addrs if addrs.count(a) > 1})
        if dupes:
            raise ValueError(f"duplicate device addresses: {', '.join(dupes)}")
        return self



def env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """``HOMERPM_GATEWAY_A__B=v`` → ``{"a": {"b": v}}`` (JSON for ``[``/``{`` values)."""
    out: dict[str, Any] = {}
    for name, raw in sorted(environ.items()):
        if not name.upper().startswith(ENV_PREFIX) or len(name) == len(ENV_PREFIX):
            continue
        *parents, leaf = name[len(ENV_PREFIX):].lower().split("__")
        value: Any = raw
        if raw.lstrip()[:1] in ("[", "{"):
            try:
                value = json.loads(raw)
            except ValueError:
                raise ConfigError(f"environment {name}: not valid JSON") from None
        node = out
        for key in parents:
            child = node.setdefault(key, {})
            if not isinstance(child, dict):
                raise ConfigError(f"environment {name}: {key} is set as a value and a section")
            node = child
        node[leaf] = value
    return out


def load_config(path: str | Path) -> GatewayConfig:
    """Read ``path`` (TOML) plus environment overrides, or raise :class:`ConfigError`."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    env = env_overrides(os.environ)
    data = deep_merge(data, {k: v for k, v in env.items() if k in GatewayConfig.model_fields})
    try:
        cfg = GatewayConfig.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors(include_url=False):
            where = ".".join(str(p) for p in err["loc"]) or "(top level)"
            lines.append(f"  {where}: {err['msg']}")
        raise ConfigError(f"{path}: invalid configuration:\n" + "\n".join(lines)) from None
    check_rules(cfg, str(path))
    return cfg


def check_rules(cfg: GatewayConfig, where: str = "config") -> None:
    """Build the ``[rules]`` once so a bad profile or override fails at start, by key."""
    if not cfg.rules.enabled:
        return
    from edge_rules.ruleset import RuleSetError  # edge_rules is a gateway dependency
    from gateway.rules import load_rules_config

    try:
        load_rules_config(str(cfg.rules.path) if cfg.rules.path else None, cfg.rules.profile,
                          cfg.rules.patients)
    except (RuleSetError, OSError) as exc:
        raise ConfigError(f"{where}: invalid configuration:\n  rules: {exc}") from None
