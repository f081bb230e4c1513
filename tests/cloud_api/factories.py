"""Test data builders shared by the cloud tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from vitals.ids import new_msg_id
from vitals.readings import BloodPressure, DeviceRef
from vitals.wire import ReadingsBatch, encode

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
DEVICE = DeviceRef(make="Omron", model="BP7450", serial="SIM-0001")


def bp(patient: str = "demo-patient-1", minutes: float = 0, systolic: float = 128.0,
       msg_id: str | None = None) -> BloodPressure:
    at = T0 + timedelta(minutes=minutes)
    return BloodPressure(
        msg_id=msg_id or new_msg_id(at), patient=patient, device=DEVICE, measured_at=at,
        simulated=True, systolic=systolic, diastolic=80.0, pulse=70.0,
    )


def readings_payload(gateway: str, *items: BloodPressure) -> bytes:
    return encode(ReadingsBatch(gateway=gateway, sent_at=T0, items=items))
