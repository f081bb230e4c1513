"""Readings → points: measurement, tags, typed fields and measurement-time timestamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from cloud_api.tsdb.schema import BP_STATUS_BITS, EcgMetrics, gw_health_point, points_for, to_ms
from edge_rules.ecg.analysis import EcgAnalysis
from edge_rules.ecg.quality import Quality
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
    (point,) = points_for(strip, "t")
    assert point.measurement == "ecg_summary" and point.tags["lead"] == "I"
    assert point.fields["chunk_ref"] == strip.msg_id
    assert point.fields["samples"] == 2500 and point.fields["lost_samples"] == 8
    assert point.fields["duration_s"] == 10.0
    assert "hr" not in point.fields  # nothing invented when no analysis ran


def test_ecg_summary_carries_the_analysis() -> None:
    rr = np.array([0.9, 1.0, 1.1])
    analysis = EcgAnalysis(
        fs=250.0,
        duration_s=10.0,
        beats=np.array([10, 235, 485, 760]),
        rr_s=rr,
        hr_bpm=60.0,
        min_hr_bpm=55.0,
        max_hr_bpm=66.0,
        quality=Quality.GOOD,
        segment_quality=(Quality.GOOD,),
        af_suspected=False,
        af_windows=(),
        pauses=((3.0, 3.2),),
    )
    strip = EcgStrip(**common(), fs_hz=250, start=AT, samples_uv=tuple(range(2500)))
    (point,) = points_for(strip, "t", ecg=EcgMetrics.from_analysis(analysis))
    expected = {
        "hr": 60.0,
        "hr_min": 55.0,
        "hr_max": 66.0,
        "beats": 4,
        "quality": "good",
        "af_suspected": False,
        "pauses": 1,
    }
    assert {k: point.fields[k] for k in expected} == expected
    assert point.fields["rr_mean_ms"] == pytest.approx(1000.0)


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
