"""The 7-2-2 home blood-pressure summary for the cloud's weekly worklist."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from edge_rules.home_bp import home_bp_722, sessions
from tests.edge_rules.rules_helpers import bp
from vitals.readings import BloodPressure

SH = ZoneInfo("Asia/Shanghai")


def day(d: int, sys_m: float, sys_e: float, dia: float = 80) -> list[BloodPressure]:
    """Morning (07:00) and evening (21:00) sessions of 2 readings 1 min apart, local time."""
    base = datetime(2026, 11, 1, tzinfo=SH) + timedelta(days=d)
    out = []
    for hour, sys_v in ((7, sys_m), (21, sys_e)):
        t = base + timedelta(hours=hour)
        out += [bp(t, sys_v + 2, dia), bp(t + timedelta(minutes=1), sys_v - 2, dia)]
    return out


def test_day_one_is_dropped_and_sessions_are_averaged() -> None:
    readings = day(0, 180, 180) + [r for d in range(1, 7) for r in day(d, 140, 130)]
    s = home_bp_722(readings, "Asia/Shanghai")
    assert len(s.days_used) == 6 and s.sessions_used == 12
    assert s.mean_systolic == 135.0 and s.mean_diastolic == 80.0
    assert s.adequate and s.uncontrolled  # >= 135 systolic


def test_controlled_and_aha_threshold() -> None:
    readings = [r for d in range(7) for r in day(d, 132, 130)]
    assert not home_bp_722(readings, "Asia/Shanghai").uncontrolled
    aha = home_bp_722(readings, "Asia/Shanghai", threshold_systolic=130, threshold_diastolic=80)
    assert aha.uncontrolled  # diastolic 80 >= 80


def test_too_few_days_is_not_adequate() -> None:
    s = home_bp_722([r for d in range(3) for r in day(d, 150, 150)], "Asia/Shanghai")
    assert len(s.days_used) == 2 and not s.adequate and not s.uncontrolled


def test_only_the_latest_window_and_morning_evening_sessions_count() -> None:
    old = day(-30, 200, 200)
    noon = [bp(datetime(2026, 11, 3, 14, 0, tzinfo=SH), 220, 120)]
    recent = [r for d in range(7) for r in day(d, 120, 120)]
    s = home_bp_722(old + noon + recent, "Asia/Shanghai")
    assert s.mean_systolic == 120.0 and not s.uncontrolled
    slots = {x.slot for x in sessions(noon, "Asia/Shanghai")}
    assert slots == {"other"}


def test_no_readings() -> None:
    s = home_bp_722([], "UTC")
    assert s.mean_systolic is None and not s.adequate
