"""Simulated patients and readings for the dashboard's tests, screenshots and demo.

Every reading written here is ``simulated=True`` and every display name says
"(simulated)". Readings go through the same row shape ingest writes (``SqlStore``), so
the API reads them exactly as it reads real data.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cloud_api.db import care
from cloud_api.db.directory import create_org, create_patient, create_user, register_gateway
from cloud_api.db.engine import session_factory
from cloud_api.db.models import Patient, ReadingRow, Role, User
from cloud_api.db.upsert import insert_ignore
from vitals.ids import new_msg_id
from vitals.readings import (
    BloodPressure,
    DeviceRef,
    EcgStrip,
    Glucose,
    HeartRate,
    Reading,
)
from vitals.units import GlucoseUnit

ORG, OTHER_ORG = "demo-clinic", "other-clinic"
CUFF = DeviceRef(make="Omron", model="BP7450", serial="SIM-BP-0001")
METER = DeviceRef(make="Roche", model="Accu-Chek Guide", serial="SIM-GL-0001")
STRAP = DeviceRef(make="Polar", model="H10", serial="SIM-ECG-0001")


@dataclass(frozen=True, slots=True)
class DemoFleet:
    clinician: tuple[str, str]
    family: tuple[str, str]
    patients: tuple[str, ...]
    other_patient: str
    bp_counts: dict[str, int]
    ecg_msg_id: str


def synthetic_ecg(fs: float, seconds: float, hr_bpm: float, *, seed: int = 1,
                  irregular: bool = False) -> list[int]:
    """A plain PQRST template train in microvolts (Gaussian waves), with mild noise.
    Simulated for display and tests only; ``irregular`` jitters RR like AF would."""
    rng = random.Random(seed)
    n = int(fs * seconds)
    t = np.arange(n) / fs
    x = np.zeros(n)
    beat = 0.3
    while beat < seconds - 0.5:
        for amp, centre, width in ((0.12, -0.2, 0.025), (-0.1, -0.03, 0.01), (1.1, 0.0, 0.012),
                                   (-0.25, 0.03, 0.012), (0.3, 0.25, 0.05)):
            x += amp * np.exp(-((t - beat - centre) ** 2) / (2 * width ** 2))
        rr = 60.0 / hr_bpm
        beat += rr * (rng.uniform(0.6, 1.4) if irregular else rng.uniform(0.97, 1.03))
    x += 0.02 * np.sin(2 * math.pi * 0.3 * t)
    return [int(v * 1000) for v in x]


def _row(gateway: str, r: Reading, received: datetime) -> dict[str, object]:
    return {"msg_id": r.msg_id, "patient_id": r.patient, "gateway_id": gateway,
            "kind": r.kind.value, "measured_at": r.measured_at, "received_at": received,
            "device_key": r.device.key, "simulated": r.simulated,
            "body": r.model_dump(mode="json", exclude_none=True)}


def care_team(db: Session, clinician: User, patient_ids: tuple[str, ...]) -> None:
    """Clinical access goes through care-team panels: put the clinician on a team with
    these patients on its panel."""
    team = care.create_team(db, clinician.org_id, "demo-dashboard-team")
    care.add_member(db, team, clinician)
    for pid in patient_ids:
        patient = db.get(Patient, pid)
        assert patient is not None
        care.add_to_panel(db, team, patient)


def _at(day: datetime, hour: int, rng: random.Random) -> datetime:
    return day.replace(hour=hour, minute=rng.randrange(0, 50), second=0, microsecond=0)


def _daily(rows: list[dict[str, object]], rng: random.Random, gw: str, pid: str, i: int,
           now: datetime, days: int) -> int:
    """BP twice a day, glucose four times, heart rate once; returns the BP count."""
    count = 0
    for d in range(days, 0, -1):
        day = now - timedelta(days=d)
        for hour in (7, 20):
            at = _at(day, hour, rng)
            s = 124 + 12 * i + rng.gauss(0, 8)
            rows.append(_row(gw, BloodPressure(
                msg_id=new_msg_id(at), patient=pid, device=CUFF, measured_at=at, simulated=True,
                systolic=round(s), diastolic=round(s * 0.62 + rng.gauss(0, 4)),
                pulse=round(68 + rng.gauss(0, 6))), at + timedelta(seconds=3)))
            count += 1
        for hour in (7, 12, 18, 22):
            at = _at(day, hour, rng)
            mg = 120 + 25 * i + 40 * math.sin(hour / 24 * 2 * math.pi) + rng.gauss(0, 30)
            mg = round(max(45.0, mg))
            rows.append(_row(gw, Glucose(
                msg_id=new_msg_id(at), patient=pid, device=METER, measured_at=at, simulated=True,
                mg_dl=mg, value_received=mg, unit_received=GlucoseUnit.MG_DL),
                at + timedelta(seconds=3)))
        at = day.replace(hour=9, minute=0, second=0, microsecond=0)
        rows.append(_row(gw, HeartRate(
            msg_id=new_msg_id(at), patient=pid, device=STRAP, measured_at=at, simulated=True,
            bpm=round(66 + 5 * i + rng.gauss(0, 5))), at))
    return count


def seed(engine: Engine, now: datetime, *, patients: int = 3, days: int = 14) -> DemoFleet:
    """Organisations, users (``demo``/``demo`` clinician, ``family1``/``family1``),
    ``patients`` simulated patients with ``days`` of BP (twice a day), glucose (four
    times a day), heart rate and one ECG strip each; one patient in another organisation."""
    rng = random.Random(7)
    ids = tuple(f"demo-patient-{i + 1}" for i in range(patients))
    bp_counts: dict[str, int] = {}
    ecg_id = ""
    with session_factory(engine).begin() as db:
        create_org(db, ORG, "Demo Clinic")
        create_org(db, OTHER_ORG, "Other Clinic")
        for i, pid in enumerate(ids):
            create_patient(db, ORG, pid, f"Patient {chr(65 + i)} (simulated)")
            register_gateway(db, f"gw-demo-{i + 1}", [pid], label=f"home {i + 1}")
        create_patient(db, OTHER_ORG, "other-patient", "Other Patient (simulated)")
        register_gateway(db, "gw-other", ["other-patient"])
        clinician = create_user(db, ORG, "demo", "demo", Role.CLINICIAN, exist_ok=True)
        create_user(db, ORG, "family1", "family1", Role.FAMILY, ids[0], exist_ok=True)
        care_team(db, clinician, ids)
        rows: list[dict[str, object]] = []
        for i, pid in enumerate((*ids, "other-patient")):
            gw = f"gw-demo-{i + 1}" if pid != "other-patient" else "gw-other"
            bp_counts[pid] = _daily(rows, rng, gw, pid, i, now, days)
            at = now - timedelta(hours=2 + i)
            ecg = EcgStrip(msg_id=new_msg_id(at), patient=pid, device=STRAP, measured_at=at,
                           simulated=True, fs_hz=250.0, start=at,
                           samples_uv=tuple(synthetic_ecg(250.0, 30.0, 72 + 8 * i, seed=i,
                                                          irregular=i == 1)))
            if i == 0:
                ecg_id = ecg.msg_id
            rows.append(_row(gw, ecg, at))
        insert_ignore(db, ReadingRow.__table__, rows)  # type: ignore[arg-type]
    return DemoFleet(("demo", "demo"), ("family1", "family1"), ids, "other-patient",
                     bp_counts, ecg_id)
