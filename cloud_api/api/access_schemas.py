"""Request/response models of the access, provisioning, thresholds, audit and me routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

from cloud_api.api.fleet import STATUS_EXAMPLE, GatewayStatusOut
from cloud_api.db.models import Role

ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
# Integer ids in paths: bounded so no request can overflow a 32-bit column.
IntId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _ex(example: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": [example]})


class TokenPairOut(BaseModel):
    model_config = _ex({"access_token": "eyJhbGciOi…", "token_type": "bearer",
                        "expires_in": 900, "refresh_token": "q1Xo…", "refresh_expires_in": 1209600})
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="seconds")
    refresh_token: str = Field(description="single use; rotate with POST /api/v1/auth/refresh")
    refresh_expires_in: int


class RefreshIn(BaseModel):
    model_config = _ex({"refresh_token": "q1Xo…"})
    refresh_token: str = Field(min_length=1, max_length=200)


class UnitPrefs(BaseModel):
    model_config = _ex({"bp_unit": "mmHg", "glucose_unit": "mmol/L"})
    bp_unit: Literal["mmHg", "kPa"] = "mmHg"
    glucose_unit: Literal["mg/dL", "mmol/L"] = "mg/dL"


class MeOut(BaseModel):
    model_config = _ex({"id": 1, "username": "demo", "role": "clinician", "org": "demo-clinic",
                        "patient_id": None, "teams": [1],
                        "preferences": {"bp_unit": "mmHg", "glucose_unit": "mg/dL"}})
    id: int
    username: str
    role: str
    org: str
    patient_id: str | None
    teams: list[int]
    preferences: UnitPrefs


class UserIn(BaseModel):
    model_config = _ex({"username": "dr-li", "password": "a long passphrase", "role": "clinician"})
    username: str = Field(pattern=r"^[A-Za-z0-9_.@-]{1,64}$")
    password: str = Field(min_length=8, max_length=200)
    role: Role
    patient_id: str | None = Field(default=None, description="family users only")


class UserPatch(BaseModel):
    model_config = _ex({"disabled": True})
    disabled: bool | None = None
    password: str | None = Field(default=None, min_length=8, max_length=200)


class UserOut(BaseModel):
    model_config = _ex({"id": 7, "username": "dr-li", "role": "clinician", "disabled": False,
                        "patient_id": None})
    id: int
    username: str
    role: str
    disabled: bool
    patient_id: str | None


class TeamIn(BaseModel):
    model_config = _ex({"name": "Hypertension clinic"})
    name: str = Field(min_length=1, max_length=200)


class TeamOut(BaseModel):
    model_config = _ex({"id": 3, "org": "demo-clinic", "name": "Hypertension clinic",
                        "members": ["demo"], "patients": ["demo-patient-1"]})
    id: int
    org: str
    name: str
    members: list[str] = Field(default_factory=list)
    patients: list[str] = Field(default_factory=list)


class MemberIn(BaseModel):
    model_config = _ex({"username": "nurse-wang"})
    username: str = Field(min_length=1, max_length=64)


class PanelIn(BaseModel):
    model_config = _ex({"patient_id": "p-7f3a"})
    patient_id: str = Field(pattern=ID_PATTERN)


class PatientIn(BaseModel):
    model_config = _ex({"id": "p-7f3a", "display_name": "Jane Doe", "mrn": "12345"})
    id: str = Field(pattern=ID_PATTERN, description="pseudonym used on the wire")
    display_name: str = Field(min_length=1, max_length=200)
    mrn: str | None = Field(default=None, max_length=64)


class PatientPatch(BaseModel):
    model_config = _ex({"display_name": "Jane Doe-Li"})
    display_name: str | None = Field(default=None, min_length=1, max_length=200)
    mrn: str | None = Field(default=None, max_length=64)


class PatientDetailOut(BaseModel):
    model_config = _ex({"id": "p-7f3a", "display_name": "Jane Doe", "mrn": "12345",
                        "org": "demo-clinic", "gateways": ["gw-0042"], "clinical_access": True})
    id: str
    display_name: str
    mrn: str | None
    org: str
    gateways: list[str]
    clinical_access: bool = Field(description="whether the caller may read clinical data")


class ConsentIn(BaseModel):
    model_config = _ex({"purpose": "referral", "granted_to_org": "city-hospital"})
    purpose: Literal["treatment", "referral", "research"]
    granted_to_org: str = Field(min_length=1, max_length=64, description="organisation slug")


class ConsentOut(BaseModel):
    model_config = _ex({"id": 4, "patient_id": "p-7f3a", "purpose": "referral",
                        "granted_to_org": "city-hospital", "granted_at": "2026-11-25T09:00:00Z",
                        "revoked_at": None})
    id: int
    patient_id: str
    purpose: str
    granted_to_org: str
    granted_at: datetime
    revoked_at: datetime | None


class ReferralIn(BaseModel):
    model_config = _ex({"to_team_id": 9, "reason": "uncontrolled BP despite 3 agents"})
    to_team_id: int = Field(ge=1, le=2**31 - 1)
    reason: str = Field(min_length=1, max_length=500)


class ReferralOut(BaseModel):
    model_config = _ex({"id": 2, "patient_id": "p-7f3a", "from_team_id": 3, "to_team_id": 9,
                        "consent_id": 4, "reason": "uncontrolled BP",
                        "created_at": "2026-11-25T09:05:00Z", "ended_at": None})
    id: int
    patient_id: str
    from_team_id: int
    to_team_id: int
    consent_id: int
    reason: str
    created_at: datetime
    ended_at: datetime | None


class ConsortiumTeamOut(BaseModel):
    model_config = _ex({"team_id": 9, "team": "Cardiology", "org": "city-hospital",
                        "level": "hospital"})
    team_id: int
    team: str
    org: str
    level: str


class SensorIn(BaseModel):
    model_config = _ex({"patient_id": "p-7f3a", "kind": "blood_pressure", "make": "Omron",
                        "model": "BP7450", "address": "C4:7C:8D:6A:10:22", "serial": None})
    patient_id: str = Field(pattern=ID_PATTERN)
    kind: Literal["blood_pressure", "glucose", "heart_rate", "ecg", "spo2", "body_weight"]
    make: str = Field(min_length=1, max_length=100)
    model: str = Field(min_length=1, max_length=100)
    address: str | None = Field(default=None, pattern=r"^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$")
    serial: str | None = Field(default=None, max_length=100)


class SensorOut(BaseModel):
    model_config = _ex({"id": 1, "gateway_id": "gw-0042", "patient_id": "p-7f3a",
                        "kind": "blood_pressure", "make": "Omron", "model": "BP7450",
                        "address": "C4:7C:8D:6A:10:22", "serial": None})
    id: int
    gateway_id: str
    patient_id: str
    kind: str
    make: str
    model: str
    address: str | None
    serial: str | None


class GatewayIn(BaseModel):
    model_config = _ex({"id": "gw-0042", "patients": ["p-7f3a"], "label": "flat 3"})
    id: str = Field(pattern=ID_PATTERN)
    patients: list[str] = Field(min_length=1, max_length=16)
    label: str | None = Field(default=None, max_length=200)


class GatewayPatch(BaseModel):
    model_config = _ex({"label": "flat 3, kitchen", "add_patients": ["p-8c1d"]})
    label: str | None = Field(default=None, max_length=200)
    add_patients: list[str] = Field(default_factory=list, max_length=16)


class GatewayOut(BaseModel):
    model_config = _ex({"id": "gw-0042", "label": "flat 3", "patients": ["p-7f3a"],
                        "credential": "active", "config_version": 3, "config_status": "published",
                        "status": STATUS_EXAMPLE})
    id: str
    label: str | None
    patients: list[str] = Field(description="the served patients visible to the caller")
    credential: Literal["active", "revoked", "none"] | None = Field(
        description="org admins of the gateway's organisation only (null for others)")
    config_version: int | None = Field(description="newest configuration pushed")
    config_status: str | None = Field(description="org admins only")
    config_error: str | None = None
    status: GatewayStatusOut | None = Field(
        default=None, description="presence and health (GET /api/v1/gateways[/{id}] only)")


class BundleOut(BaseModel):
    model_config = _ex({
        "gateway_id": "gw-0042", "broker_url": "mqtts://broker.example.org:8883",
        "username": "gw-0042", "password": "returned once — store it on the gateway only",
        "ca_cert": None, "patients": ["p-7f3a"], "devices": [],
        "broker_sync": None, "toml": "[gateway]\nid = \"gw-0042\"\n…"})
    gateway_id: str
    broker_url: str
    username: str
    password: str = Field(description="shown once; only its $7$ hash is stored")
    ca_cert: str | None
    patients: list[str]
    devices: list[dict[str, str | None]]
    broker_sync: str | None = Field(description="null when the broker files were rewritten "
                                    "and reloaded; else what went wrong")
    toml: str = Field(description="the same, as a file for /etc/homerpm/gateway.toml")


class ThresholdIn(BaseModel):
    model_config = _ex({
        "rules": {"glucose_low": {"unit": "mmol/L", "tier": {"warning": {"lt": 4.2}}}},
        "reason": "recurrent nocturnal lows on basal insulin",
        "timezone": "Asia/Shanghai", "quiet_hours": [{"start": "22:00", "end": "07:00"}]})
    rules: dict[str, Any] = Field(description="edge_rules override patch: rule id → fields")
    reason: str = Field(min_length=1, max_length=1000)
    effective_at: datetime | None = Field(default=None, description="default now; not future")
    timezone: str | None = Field(default=None, max_length=64, description="clinician layer")
    quiet_hours: list[dict[str, str]] | None = Field(default=None, max_length=8)


_VERSION_EXAMPLE: dict[str, Any] = {"layer": "clinician", "version": 2,
          "rules": {"glucose_low": {"unit": "mmol/L", "tier": {"warning": {"lt": 4.2}}}},
          "timezone": "Asia/Shanghai", "quiet_hours": [{"start": "22:00", "end": "07:00"}],
          "author": "dr-li", "reason": "nocturnal lows", "effective_at": "2026-11-25T09:00:00Z"}
_PUSH_EXAMPLE: dict[str, Any] = {"gateway_id": "gw-0042", "version": 3, "status": "published",
                                 "attempts": 1, "last_error": None}


class ThresholdVersionOut(BaseModel):
    model_config = _ex(_VERSION_EXAMPLE)
    layer: str
    version: int
    rules: dict[str, Any]
    timezone: str | None
    quiet_hours: list[Any] | None
    author: str
    reason: str
    effective_at: datetime


class PushOut(BaseModel):
    model_config = _ex(_PUSH_EXAMPLE)
    gateway_id: str
    version: int
    status: str
    attempts: int
    last_error: str | None


class ThresholdsOut(BaseModel):
    model_config = _ex({"patient_id": "p-7f3a", "current": {"clinician": _VERSION_EXAMPLE},
                        "history": [_VERSION_EXAMPLE], "pushes": [_PUSH_EXAMPLE]})
    patient_id: str
    current: dict[str, ThresholdVersionOut]
    history: list[ThresholdVersionOut]
    pushes: list[PushOut]


class AuditOut(BaseModel):
    model_config = _ex({"id": 42, "at": "2026-11-25T09:05:00Z", "actor": "demo",
                        "action": "readings.read", "patient_id": "p-7f3a",
                        "detail": {"count": 3}})
    id: int
    at: datetime
    actor: str
    action: str
    patient_id: str | None
    detail: dict[str, Any]
