"""Gateways: the fleet view (presence and health) for everyone who may see the gateway's
patients; provisioning with MQTT credentials, rotate/revoke and devices for org admins."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from cloud_api.api import fleet
from cloud_api.api.access_schemas import (
    BundleOut,
    GatewayIn,
    GatewayOut,
    GatewayPatch,
    IntId,
    SensorIn,
    SensorOut,
)
from cloud_api.api.deps import CurrentUser, DbSession, ReadSession, get_settings
from cloud_api.api.fleet import GatewayStatusOut
from cloud_api.api.guards import admin_patient, require
from cloud_api.broker import provisioning
from cloud_api.db.access_models import ConfigPush, DeviceRow, GatewayCredential
from cloud_api.db.audit import record
from cloud_api.db.errors import Conflict, Invalid, NotFound
from cloud_api.db.models import Gateway, Role, User
from vitals.readings import now_utc

router = APIRouter(prefix="/api/v1/gateways", tags=["gateways"])
_ERR: dict[int | str, dict[str, Any]] = {
    403: {"description": "not an org admin"}, 404: {"description": "not in your org"},
}


def _gateway(db: DbSession, user: User, gateway_id: str) -> Gateway:
    require(user, Role.ORG_ADMIN)
    gateway = db.get(Gateway, gateway_id)
    if gateway is None or gateway.org_id != user.org_id:
        raise NotFound("gateway not found")
    return gateway


def _out(db: Session, g: Gateway) -> GatewayOut:
    """The admin view of one gateway (provisioning answers)."""
    return _view(g, db.get(GatewayCredential, g.id), db.get(ConfigPush, g.id))


def _view(g: Gateway, cred: GatewayCredential | None, push: ConfigPush | None,
          patients: list[str] | None = None, status: GatewayStatusOut | None = None,
          admin: bool = True) -> GatewayOut:
    credential = "none" if cred is None else ("revoked" if cred.revoked_at else "active")
    return GatewayOut(
        id=g.id, label=g.label,
        patients=sorted(p.id for p in g.patients) if patients is None else patients,
        credential=credential if admin else None,
        config_version=push.version if push else None,
        config_status=push.status if push and admin else None,
        config_error=push.last_error if push and admin else None, status=status)


def _fleet_view(request: Request, reader: Session, user: User,
                gateways: list[Gateway]) -> list[GatewayOut]:
    """The fleet view of ``gateways``: a few queries for all of them, not per gateway."""
    ids = [g.id for g in gateways]
    view = fleet.Fleet.load(reader, user, gateways, now_utc(),
                            get_settings(request).gateway_offline_after_s)
    creds = {c.gateway_id: c for c in reader.scalars(
        select(GatewayCredential).where(GatewayCredential.gateway_id.in_(ids)))}
    pushes = {p.gateway_id: p for p in reader.scalars(
        select(ConfigPush).where(ConfigPush.gateway_id.in_(ids)))}
    out = []
    for g in gateways:
        patients = view.patients(g)
        out.append(_view(g, creds.get(g.id), pushes.get(g.id), patients,
                         view.status(g, patients), admin=fleet.manages(user, g)))
    return out


def _bundle(request: Request, db: DbSession, gateway: Gateway, secret: str) -> BundleOut:
    settings = get_settings(request)
    problem = provisioning.sync_broker(db, settings)
    bundle = provisioning.build_bundle(db, gateway, secret, settings)
    return BundleOut(gateway_id=bundle.gateway_id, broker_url=bundle.broker_url,
                     username=bundle.username, password=bundle.password, ca_cert=bundle.ca_cert,
                     patients=bundle.patients, devices=bundle.devices, broker_sync=problem,
                     toml=bundle.to_toml())


@router.get("", response_model=list[GatewayOut])
def list_gateways(request: Request, user: CurrentUser, db: DbSession,
                  reader: ReadSession) -> list[GatewayOut]:
    """Gateways serving patients you may see (org admins: every gateway of the organisation),
    each with `status`: online/offline and since when (Last Will, or no heartbeat for
    `offline_after_s`), outbox depth, device batteries, software and applied config version.
    Provisioning details (`credential`, `config_status`) are shown to org admins only."""
    out = _fleet_view(request, reader, user, fleet.visible_gateways(reader, user))
    record(db, user.username, "gateways.list", actor_id=user.id,
           detail={"gateways": [g.id for g in out],
                   "patients": sorted({p for g in out for p in g.patients})})
    db.commit()
    return out


@router.post("", response_model=BundleOut, status_code=status.HTTP_201_CREATED,
             responses={**_ERR, 409: {"description": "gateway id taken"}})
def provision(request: Request, body: GatewayIn, user: CurrentUser, db: DbSession) -> BundleOut:
    """Register a gateway for patients of your organisation and issue its MQTT credentials.
    The answer holds the password **once** (only its mosquitto `$7$` hash is stored); the
    broker's password file and ACL are rewritten and the broker reloaded."""
    require(user, Role.ORG_ADMIN)
    if body.id.startswith("svc-"):
        raise Invalid("gateway ids may not start with 'svc-'")
    if db.get(Gateway, body.id) is not None:
        raise Conflict("gateway id taken")
    patients = [admin_patient(db, user, pid) for pid in dict.fromkeys(body.patients)]
    gateway = Gateway(id=body.id, org_id=user.org_id, label=body.label, created_at=now_utc())
    gateway.patients.extend(patients)
    db.add(gateway)
    db.flush()
    secret = provisioning.set_secret(db, gateway.id)
    record(db, user.username, "gateway.provision", actor_id=user.id,
           detail={"gateway": gateway.id, "patients": [p.id for p in patients]})
    out = _bundle(request, db, gateway, secret)
    db.commit()
    return out


@router.get("/{gateway_id}", response_model=GatewayOut,
            responses={404: {"description": "no such gateway, or not visible to the caller"}})
def get_gateway(request: Request, gateway_id: str, user: CurrentUser, db: DbSession,
                reader: ReadSession) -> GatewayOut:
    """One gateway as in the list (same visibility; 404 when not visible)."""
    found = fleet.visible_gateways(reader, user, gateway_id)
    if not found:
        record(db, user.username, "gateways.read.denied", actor_id=user.id,
               detail={"gateway": gateway_id[:64]})
        db.commit()
        raise NotFound("gateway not found")
    [out] = _fleet_view(request, reader, user, found)
    record(db, user.username, "gateways.read", actor_id=user.id,
           patient_id=out.patients[0] if len(out.patients) == 1 else None,
           detail={"gateway": out.id, "patients": out.patients})
    db.commit()
    return out


@router.patch("/{gateway_id}", response_model=GatewayOut, responses=_ERR)
def patch_gateway(gateway_id: str, body: GatewayPatch, user: CurrentUser,
                  db: DbSession) -> GatewayOut:
    gateway = _gateway(db, user, gateway_id)
    if body.label is not None:
        gateway.label = body.label
    for pid in body.add_patients:
        patient = admin_patient(db, user, pid)
        if patient not in gateway.patients:
            gateway.patients.append(patient)
    record(db, user.username, "gateway.update", actor_id=user.id,
           detail={"gateway": gateway.id, "add_patients": body.add_patients})
    db.commit()
    return _out(db, gateway)


@router.post("/{gateway_id}/credentials/rotate", response_model=BundleOut, responses=_ERR)
def rotate(request: Request, gateway_id: str, user: CurrentUser, db: DbSession) -> BundleOut:
    """New secret (the old one stops working at the broker's reload); returns a new bundle."""
    gateway = _gateway(db, user, gateway_id)
    secret = provisioning.set_secret(db, gateway.id)
    record(db, user.username, "gateway.credentials.rotate", actor_id=user.id,
           detail={"gateway": gateway.id})
    out = _bundle(request, db, gateway, secret)
    db.commit()
    return out


@router.post("/{gateway_id}/credentials/revoke", response_model=GatewayOut, responses=_ERR)
def revoke(request: Request, gateway_id: str, user: CurrentUser, db: DbSession) -> GatewayOut:
    """Remove the gateway from the broker's password file (connected sessions of a revoked
    gateway are refused on their next connect; mosquitto keeps live connections)."""
    gateway = _gateway(db, user, gateway_id)
    provisioning.revoke_secret(db, gateway.id)
    provisioning.sync_broker(db, get_settings(request))
    record(db, user.username, "gateway.credentials.revoke", actor_id=user.id,
           detail={"gateway": gateway.id})
    db.commit()
    return _out(db, gateway)


def _device_out(d: DeviceRow) -> SensorOut:
    return SensorOut(id=d.id, gateway_id=d.gateway_id, patient_id=d.patient_id, kind=d.kind,
                     make=d.make, model=d.model, address=d.address, serial=d.serial)


@router.get("/{gateway_id}/devices", response_model=list[SensorOut], responses=_ERR)
def list_devices(gateway_id: str, user: CurrentUser, db: DbSession) -> list[SensorOut]:
    gateway = _gateway(db, user, gateway_id)
    rows = db.scalars(select(DeviceRow).where(DeviceRow.gateway_id == gateway.id)
                      .order_by(DeviceRow.id))
    return [_device_out(d) for d in rows]


@router.post("/{gateway_id}/devices", response_model=SensorOut,
             status_code=status.HTTP_201_CREATED, responses=_ERR)
def add_device(gateway_id: str, body: SensorIn, user: CurrentUser, db: DbSession) -> SensorOut:
    gateway = _gateway(db, user, gateway_id)
    if body.patient_id not in {p.id for p in gateway.patients}:
        raise Invalid("the device's patient must be served by this gateway")
    device = DeviceRow(gateway_id=gateway.id, patient_id=body.patient_id, kind=body.kind,
                       make=body.make, model=body.model,
                       address=body.address.upper() if body.address else None,
                       serial=body.serial, created_at=now_utc())
    db.add(device)
    db.flush()
    record(db, user.username, "device.add", actor_id=user.id, patient_id=body.patient_id,
           detail={"gateway": gateway.id, "device": device.id, "kind": body.kind})
    db.commit()
    return _device_out(device)


@router.delete("/{gateway_id}/devices/{device_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses=_ERR)
def remove_device(gateway_id: str, device_id: IntId, user: CurrentUser, db: DbSession) -> None:
    gateway = _gateway(db, user, gateway_id)
    device = db.get(DeviceRow, device_id)
    if device is None or device.gateway_id != gateway.id:
        raise NotFound("device not found")
    db.delete(device)
    record(db, user.username, "device.remove", actor_id=user.id, patient_id=device.patient_id,
           detail={"gateway": gateway.id, "device": device_id})
    db.commit()
