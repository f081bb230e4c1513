"""Fleet view of gateways: who may see which gateway, and its presence and health.

Visibility follows patient access (``db/access.py``): a gateway is visible when it serves a
patient the caller may see; an org admin also sees every gateway of their organisation.
Presence comes from :func:`cloud_api.alerting.presence.presence_of`, the same verdict the
``gateway_offline`` rule uses. Callers who do not manage the gateway's organisation see only
the devices of patients visible to them (a gateway may serve a whole household).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session, selectinload

from cloud_api.alerting.models import GatewayPresence
from cloud_api.alerting.presence import OfflineReason, presence_of
from cloud_api.db.access import visible_patients
from cloud_api.db.access_models import DeviceRow
from cloud_api.db.models import Gateway, Patient, Role, User, gateway_patients
from vitals.status import GatewayStatus


class DeviceHealthOut(BaseModel):
    device: str = Field(description="device id as the gateway names it")
    patient_id: str | None = Field(description="when the device is a provisioned one")
    battery_pct: int | None = Field(description="0–100, as the device last reported")
    connected: bool
    last_reading_at: datetime | None


STATUS_EXAMPLE: dict[str, Any] = {
    "presence": "offline", "since": "2026-11-25T21:40:05Z",
    "offline_reason": "reported_offline", "last_seen_at": "2026-11-25T21:38:12Z",
    "status_at": "2026-11-25T21:38:11Z", "boot_id": "01KWBZ0000AAAAAAAAAAAAAAAA",
    "software": "homerpm-gateway/0.1.0", "config_version": 3, "outbox_depth": 12,
    "outbox_bytes": 20480, "evicted_total": 0, "adapter": "powered",
    "cpu_temp_c": 48.3, "disk_free_mb": 10240.5,
    "devices": [{"device": "4", "patient_id": "p-7f3a", "battery_pct": 64,
                 "connected": True, "last_reading_at": "2026-11-25T20:02:00Z"}],
    "simulated": False, "offline_after_s": 600.0}


class GatewayStatusOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [STATUS_EXAMPLE]})
    presence: Literal["online", "offline", "unknown"] = Field(
        description="unknown: no status ever received")
    since: datetime | None = Field(
        description="start of the current presence: arrival of the offline status (Last Will "
                    "or shutdown), the last sign of life when silent, or the first online")
    offline_reason: OfflineReason | None = Field(
        description="reported_offline: its Last Will or its own shutdown message; "
                    "heartbeat_missing: nothing for more than offline_after_s")
    last_seen_at: datetime | None = Field(description="arrival of the last online heartbeat")
    status_at: datetime | None = Field(description="gateway clock of the newest status")
    boot_id: str | None
    software: str | None = Field(description="gateway firmware / app version")
    config_version: int | None = Field(description="configuration version the gateway applied")
    outbox_depth: int | None = Field(description="records waiting on the gateway for an ack")
    outbox_bytes: int | None
    evicted_total: int | None = Field(description="records the outbox caps dropped, in total")
    adapter: str | None = Field(description="Bluetooth adapter state")
    cpu_temp_c: float | None
    disk_free_mb: float | None
    devices: list[DeviceHealthOut]
    simulated: bool
    offline_after_s: float = Field(description="silence after which a gateway counts as offline")


def manages(user: User, gateway: Gateway) -> bool:
    return user.role == Role.ORG_ADMIN.value and not user.disabled \
        and gateway.org_id == user.org_id


def _visible(user: User) -> ColumnElement[bool]:
    patients = visible_patients(user).with_only_columns(Patient.id)
    serving = select(gateway_patients.c.gateway_id).where(
        gateway_patients.c.patient_id.in_(patients))
    served = Gateway.id.in_(serving)
    if user.role == Role.ORG_ADMIN.value and not user.disabled:
        return or_(Gateway.org_id == user.org_id, served)
    return served


def visible_gateways(db: Session, user: User, gateway_id: str | None = None) -> list[Gateway]:
    query = select(Gateway).where(_visible(user)).options(selectinload(Gateway.patients))
    if gateway_id is not None:
        query = query.where(Gateway.id == gateway_id)
    return list(db.scalars(query.order_by(Gateway.id)))


@dataclass(frozen=True, slots=True)
class Fleet:
    """Everything the fleet view needs about some gateways, loaded in a few queries (not a
    handful per gateway: an org admin's list has them all)."""

    user: User
    now: datetime
    offline_after_s: float
    visible: frozenset[str]  # patient ids the caller may see, among these gateways' patients
    presence: dict[str, GatewayPresence]
    device_owner: dict[tuple[str, str], str]  # (gateway, device id) → patient

    @classmethod
    def load(cls, db: Session, user: User, gateways: Sequence[Gateway], now: datetime,
             offline_after_s: float) -> Fleet:
        ids = [g.id for g in gateways]
        patients = {p.id for g in gateways for p in g.patients}
        visible = frozenset(db.scalars(visible_patients(user).with_only_columns(Patient.id)
                                       .where(Patient.id.in_(patients)))) if patients else \
            frozenset()
        presence = {p.gateway_id: p for p in db.scalars(
            select(GatewayPresence).where(GatewayPresence.gateway_id.in_(ids)))}
        owners = {(gw, str(dev)): patient for gw, dev, patient in db.execute(
            select(DeviceRow.gateway_id, DeviceRow.id, DeviceRow.patient_id)
            .where(DeviceRow.gateway_id.in_(ids)))}
        return cls(user, now, offline_after_s, visible, presence, owners)

    def patients(self, gateway: Gateway) -> list[str]:
        """The gateway's patients the caller may see (all of them for its org's admin)."""
        ids = sorted(p.id for p in gateway.patients)
        return ids if manages(self.user, gateway) else [i for i in ids if i in self.visible]

    def status(self, gateway: Gateway, shown: list[str]) -> GatewayStatusOut:
        row = self.presence.get(gateway.id)
        if row is None:
            return GatewayStatusOut(
                presence="unknown", since=None, offline_reason=None, last_seen_at=None,
                status_at=None, boot_id=None, software=None, config_version=None,
                outbox_depth=None, outbox_bytes=None, evicted_total=None, adapter=None,
                cpu_temp_c=None, disk_free_mb=None, devices=[], simulated=False,
                offline_after_s=self.offline_after_s)
        verdict = presence_of(row, self.now, self.offline_after_s)
        last = _last_status(row)
        return GatewayStatusOut(
            presence="online" if verdict.online else "offline", since=verdict.since,
            offline_reason=verdict.reason, last_seen_at=row.last_online_at, status_at=row.at,
            boot_id=row.boot_id, software=(last.software or None) if last else None,
            config_version=last.config_version if last else None,
            outbox_depth=last.outbox_depth if last else None,
            outbox_bytes=last.outbox_bytes if last else None,
            evicted_total=last.evicted_total if last else None,
            adapter=last.adapter if last else None,
            cpu_temp_c=last.cpu_temp_c if last else None,
            disk_free_mb=last.disk_free_mb if last else None,
            devices=self._devices(gateway, last, shown), simulated=row.simulated,
            offline_after_s=self.offline_after_s)

    def _devices(self, gateway: Gateway, last: GatewayStatus | None,
                 shown: list[str]) -> list[DeviceHealthOut]:
        if last is None:
            return []
        everyone = manages(self.user, gateway) or len(shown) == len(gateway.patients)
        out = []
        for d in last.devices:
            patient = self.device_owner.get((gateway.id, d.device))
            if not everyone and patient not in shown:
                continue  # another household member's device
            out.append(DeviceHealthOut(device=d.device, patient_id=patient,
                                       battery_pct=d.battery_pct, connected=d.connected,
                                       last_reading_at=d.last_reading_at))
        return out


def _last_status(row: GatewayPresence) -> GatewayStatus | None:
    if row.last_status is None:  # a row from before migration 0004_fleet
        return None
    try:
        return GatewayStatus.model_validate(row.last_status)
    except ValidationError:  # stored by an older wire version: show presence only
        return None
