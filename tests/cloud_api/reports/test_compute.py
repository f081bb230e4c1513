"""Report arithmetic on constructed data, expected values computed by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cloud_api.reports.compute import adherence_report, glucose_summary, home_bp_report
from tests.cloud_api.factories import DEVICE
from vitals.ids import new_msg_id
from vitals.readings import BloodPressure


def bp(at: datetime, s: float, d: float) -> BloodPressure:
    return BloodPressure(msg_id=new_msg_id(at), patient="p", device=DEVICE, measured_at=at,
                         simulated=True, systolic=s, diastolic=d, pulse=70.0)


def test_glucose_time_in_ranges_gmi_and_cv() -> None:
    values = [50, 60, 100, 150, 200, 300, 120, 80, 180, 70]
    g = glucose_summary(values)
    # in 70..180 inclusive: 100 150 120 80 180 70 → 6/10
    assert g.tir_70_180_pct == 60.0
    assert g.tbr_below_70_pct == 20.0 and g.tbr_below_54_pct == 10.0  # 50, 60 / 50
    assert g.tar_above_180_pct == 20.0 and g.tar_above_250_pct == 10.0  # 200, 300 / 300
    assert g.mean_mg_dl == 131.0  # 1310 / 10
    assert g.gmi_pct_estimate == pytest.approx(3.31 + 0.02392 * 131.0, abs=0.005)  # 6.44
    assert g.gmi_pct_estimate == 6.44
    # squared deviations from 131 sum to 55090; sample SD sqrt(55090/9) = 78.24 → 59.7 %
    assert g.cv_pct == 59.7
    assert glucose_summary([]).readings == 0 and glucose_summary([100]).cv_pct is None


def test_home_bp_722_in_patient_timezone_drops_day_one() -> None:
    tz = "Asia/Shanghai"  # UTC+8: 23:30 UTC is 07:30 the next local day
    start = datetime(2026, 11, 15, 23, 30, tzinfo=UTC)  # local 2026-11-16 07:30
    readings = []
    for day in range(4):
        morning = start + timedelta(days=day)
        evening = morning + timedelta(hours=13)  # local 20:30
        first = 170 if day == 0 else 130 + day  # 131, 132, 133 on days 2-4
        readings += [bp(morning, first, 90), bp(morning + timedelta(minutes=1), first + 2, 88),
                     bp(evening, first, 80)]
    r = home_bp_report(readings, tz)
    assert r["days_used"] == ["2026-11-17", "2026-11-18", "2026-11-19"]
    assert r["sessions_used"] == 6
    # per day: morning (x + x+2)/2 = x+1, evening x → day mean x + 0.5; x = 131..133
    assert r["mean_systolic"] == 132.5 and r["mean_diastolic"] == 84.5
    assert r["adequate"] is True and r["above_threshold"] is False
    # mornings (x+1): 132, 133, 134 → 133; evenings x: 131..133 → 132; dia 89 vs 80
    assert r["morning"] == {"systolic": 133.0, "diastolic": 89.0, "sessions": 3}
    assert r["evening"] == {"systolic": 132.0, "diastolic": 80.0, "sessions": 3}
    assert [s["used"] for s in r["sessions"]][:2] == [False, False]  # day 1 (170s) dropped
    assert {s["slot"] for s in r["sessions"]} == {"morning", "evening"}
    high = home_bp_report([bp(x.measured_at, x.systolic + 5, x.diastolic) for x in readings],
                          tz)
    assert high["mean_systolic"] == 137.5 and high["above_threshold"] is True


def test_adherence_counts_local_days_per_kind() -> None:
    end = datetime(2026, 11, 30, 12, tzinfo=UTC)
    points = [("blood_pressure", end - timedelta(days=d)) for d in (0, 0, 1, 5, 29, 30)]
    points += [("glucose", end - timedelta(days=2, hours=13))]  # 23:00 UTC = next day in +8
    r = adherence_report(points, "UTC", end, days=30)
    assert r["from"] == "2026-11-01" and r["to"] == "2026-11-30"
    assert r["by_kind"]["blood_pressure"] == {"days_with_data": 4, "share_pct": 13.3}
    shanghai = adherence_report(points, "Asia/Shanghai", end, days=30)
    assert shanghai["by_kind"]["glucose"]["days_with_data"] == 1
