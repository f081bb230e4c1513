"""Response models of the API (with examples, so /docs shows realistic data)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

_ULID = "01JDQ3Z8X7M4K2V5N9R0T6W1YB"


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="seconds", examples=[900])


class PatientOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "demo-patient-1", "display_name": "Demo Patient (simulated)", "mrn": None,
    }]})
    id: str = Field(description="pseudonym used on the wire")
    display_name: str
    mrn: str | None = None


class DeviceOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "make": "Omron", "model": "BP7450", "serial": "SIM-0001", "address": None,
        "key": "SIM-0001"}]})
    make: str
    model: str
    serial: str | None = None
    address: str | None = None
    key: str = Field(description="stable device identity (serial, else address)")


class ReadingOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "msg_id": _ULID, "kind": "blood_pressure",
        "measured_at": "2026-11-25T08:01:00Z", "received_at": "2026-11-25T08:01:02Z",
        "gateway_id": "gw-demo-1", "simulated": True,
        "device": {"make": "Omron", "model": "BP7450", "serial": "SIM-0001",
                   "key": "SIM-0001"},
        "values": {"systolic": 128.0, "diastolic": 82.0, "pulse": 71.0, "unit_received": "mmHg"},
    }]})
    msg_id: str
    kind: str
    measured_at: datetime
    received_at: datetime = Field(description="when the cloud stored it")
    gateway_id: str
    simulated: bool
    device: DeviceOut
    values: dict[str, Any] = Field(description="the kind-specific fields, canonical units")
    display: dict[str, Any] | None = Field(
        default=None, description="BP / glucose values in the caller's preferred unit "
        "(PUT /api/v1/me/preferences), with the unit: e.g. {\"systolic\": 17.1, "
        "\"diastolic\": 10.7, \"unit\": \"kPa\"}")


class ReadingsPageOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "items": [ReadingOut.model_config["json_schema_extra"]["examples"][0]],  # type: ignore[index]
        "next_cursor": None}]})
    items: list[ReadingOut]
    next_cursor: str | None = Field(
        description="pass as ?cursor= for the next (older) page; null on the last page"
    )


class ComponentHealth(BaseModel):
    status: str = Field(examples=["ok"], description="ok | down | idle")
    detail: dict[str, Any] = Field(default_factory=dict)


class HealthOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "status": "ok",
        "components": {
            "database": {"status": "ok", "detail": {"dialect": "sqlite"}},
            "ingest": {"status": "ok", "detail": {
                "last_reading_received_at": "2026-11-25T08:01:02Z", "age_s": 4.2}},
        },
    }]})
    status: str
    components: dict[str, ComponentHealth]
