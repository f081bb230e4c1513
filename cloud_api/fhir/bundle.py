"""Searchset Bundles for ``Patient/$everything`` and ``Observation?patient=…&date=…``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cloud_api.db.access_models import DeviceRow
from cloud_api.db.models import Gateway, Patient, ReadingRow
from cloud_api.fhir import mapping
from vitals.readings import now_utc


def searchset(base: str, resources: Iterable[dict[str, Any]], matches: int | None = None,
              self_url: str | None = None) -> dict[str, Any]:
    entries = [
        {"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r,
         "search": {"mode": "match" if r["resourceType"] == "Observation" or matches is None
                    else "include"}}
        for r in resources
    ]
    bundle: dict[str, Any] = {
        "resourceType": "Bundle", "type": "searchset",
        "timestamp": now_utc().isoformat().replace("+00:00", "Z"),
        "total": matches if matches is not None else len(entries), "entry": entries,
    }
    if self_url:
        bundle["link"] = [{"relation": "self", "url": self_url}]
    return bundle


def reading_rows(db: Session, patient_id: str, ge: datetime | None, le: datetime | None,
                 limit: int) -> Sequence[ReadingRow]:
    query = select(ReadingRow).where(ReadingRow.patient_id == patient_id)
    if ge is not None:
        query = query.where(ReadingRow.measured_at >= ge)
    if le is not None:
        query = query.where(ReadingRow.measured_at <= le)
    return db.scalars(query.order_by(ReadingRow.measured_at, ReadingRow.msg_id).limit(limit)).all()


def observations(rows: Iterable[ReadingRow]) -> list[dict[str, Any]]:
    return [obs for row in rows for obs in mapping.observations(row)]


def everything(db: Session, patient: Patient, rows: Sequence[ReadingRow]) -> list[dict[str, Any]]:
    """Patient, its gateways (PhgDevice), the sensors seen (PhdDevice), then Observations."""
    resources = [mapping.patient(patient)]
    gateway_ids = sorted({r.gateway_id for r in rows} | {
        g for (g,) in db.execute(select(Gateway.id).where(Gateway.patients.contains(patient)))})
    for gid in gateway_ids:
        gateway = db.get(Gateway, gid)
        if gateway is not None:
            resources.append(mapping.gateway_device(gateway))
    registered = {(d.serial or d.address or ""): d for d in db.scalars(
        select(DeviceRow).where(DeviceRow.patient_id == patient.id))}
    seen: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row.device_key not in seen:
            seen[row.device_key] = mapping.sensor_device(
                row.device_key, row.body.get("device", {}), registered.get(row.device_key))
    resources += list(seen.values())
    resources += observations(rows)
    return resources
