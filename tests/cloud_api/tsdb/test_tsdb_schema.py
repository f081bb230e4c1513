"""Readings → points: measurement, tags, typed fields and measurement-time timestamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cloud_api.tsdb.schema import BP_STATUS_BITS, EcgMetrics, gw_health_point, points_for, to_ms
from vitals.ids import new_msg_id
from vitals.readings import (
    BloodPressure,
    BodyWeight,
    BpStatus,
    DeviceRef,
    EcgStrip,
    Glucose,
    HeartRate,
    MealContext,
    SpO2,
)
from vitals.status import DeviceHealth, GatewayState, GatewayStatus
from vitals.units import GlucoseUnit

AT = datetime(2026, 3, 1, 8, 30, 15, 123000, tzinfo=UTC)
RX = AT + timedelta(seconds=4, milliseconds=7)
DEV = DeviceRef(make="Omron", model="HEM-7150T", serial="SN 42")


def common(**extra: object) -> dict[str, object]:
    return {
        "msg_id": new_msg_id(),
        "patient": "pz-17",
        "device": DEV,
        "measured_at": AT,
        "received_at": RX,
        "simulated": True,
        **extra,
    }


def test_to_ms_is_exact() -> None:
    assert to_ms(datetime(1970, 1, 1, 0, 0, 1, 999000, tzinfo=UTC)) == 1999
    assert to_ms(AT) == int(AT.timestamp()) * 1000 + 123


def test_blood_pressure() -> None:
    reading = BloodPressure(
        **common(seq=9),
        systolic=131,
        diastolic=84,
        pulse=66,
        status=frozenset({BpStatus.IRREGULAR_PULSE, BpStatus.BODY_MOVEMENT}),
    )
    (point,) = points_for(reading, "clinic-a")
    assert point.measurement == "bp" and point.time_ms == to_ms(AT)
    assert dict(point.tags) == {"tenant": "clinic-a", "patient": "pz-17", "device": "SN 42"}
    assert dict(point.fields) == {
        "systolic": 131.0,
        "diastolic": 84.0,
        "pulse": 66.0,
        "seq": 9,
        "rx_ms": to_ms(RX),
        "simulated": True,
        "msg_id": reading.msg_id,
        "irregular": True,
        "status": BP_STATUS_BITS[BpStatus.IRREGULAR_PULSE] | BP_STATUS_BITS[BpStatus.BODY_MOVEMENT],
    }
    assert type(point.fields["systolic"]) is float  # int input must not become an int field


def test_per_delivery_values_are_never_tags() -> None:
    reading = BloodPressure(**common(), systolic=120, diastolic=80)
    (point,) = points_for(reading, "t")
    assert not {"msg_id", "rx_ms", "seq", "simulated"} & set(point.tags)
    # A redelivery (same reading, new copy) maps to the very same point.
    assert points_for(reading.model_copy(), "t") == [point]


def test_glucose_meal_is_a_tag_and_seq_a_field() -> None:
    reading = Glucose(
        **common(seq=301),
        mg_dl=112,
        value_received=6.2,
        unit_received=GlucoseUnit.MMOL_L,
        meal=MealContext.POSTPRANDIAL,
    )
    (point,) = points_for(reading, "t")
    assert point.measurement == "glucose"
    assert point.tags["meal"] == "postprandial"
    assert point.fields["mg_dl"] == 112.0 and point.fields["seq"] == 301
    assert point.fields["control_solution"] is False
    no_meal = Glucose(**common(), mg_dl=90, value_received=90, unit_received=GlucoseUnit.MG_DL)
    assert "meal" not in points_for(no_meal, "t")[0].tags


def test_heart_rate_spo2_weight() -> None:
    (hr,) = points_for(HeartRate(**common(), bpm=72, rr_intervals_s=(0.8, 0.9)), "t")
    assert (hr.measurement, hr.fields["bpm"], hr.fields["rr_count"]) == ("heart_rate", 72.0, 2)
    assert hr.fields["rr_mean_ms"] == pytest.approx(850.0)
    (ox,) = points_for(SpO2(**common(), spo2_pct=96, pulse=70), "t")
    assert (ox.measurement, ox.fields["spo2_pct"], ox.fields["pulse"]) == ("spo2", 96.0, 70.0)
    (kg,) = points_for(BodyWeight(**common(), kg=81.2, value_received=81.2, bmi=25.1), "t")
    assert (kg.measurement, kg.fields["kg"], kg.fields["bmi"]) == ("weight", 81.2, 25.1)


def test_ecg_becomes_one_summary_point_not_samples() -> None:
    strip = EcgStrip(
        **common(), fs_hz=250, start=AT, samples_uv=tuple(range(2500)), gaps=((100, 5), (900, 3))
    )
    points = points_for(strip, "t", ecg=EcgMetrics(hr_bpm=64, rr_mean_ms=937.5, rhythm="normal"))
    assert len(points) == 1
    (point,) = points
    assert point.measurement == "ecg_summary" and point.tags["lead"] == "I"
    assert point.fields["chunk_ref"] == strip.msg_id
    assert point.fields["samples"] == 2500 and point.fields["lost_samples"] == 8
    assert point.fields["duration_s"] == 10.0 and point.fields["hr"] == 64.0
    assert point.fields["rhythm"] == "normal"


def test_gateway_health() -> None:
    status = GatewayStatus(
        gateway="gw-7",
        state=GatewayState.ONLINE,
        boot_id="b1",
        at=AT,
        outbox_depth=12,
        cpu_temp_c=51.5,
        devices=(
            DeviceHealth(device="d1", battery_pct=40, connected=True),
            DeviceHealth(device="d2", battery_pct=80),
        ),
    )
    point = gw_health_point(status, "clinic-a")
    assert point.measurement == "gw_health" and dict(point.tags) == {
        "tenant": "clinic-a",
        "gw": "gw-7",
    }
    assert point.fields["online"] is True and point.fields["outbox_depth"] == 12
    assert point.fields["battery_min"] == 40 and point.fields["devices_connected"] == 1
    assert point.time_ms == to_ms(AT)
