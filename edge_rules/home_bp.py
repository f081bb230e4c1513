"""Home blood-pressure "7-2-2" summary (clinical.md §2.1) — for the cloud's weekly worklist.

Protocol: 7 consecutive days, a morning and an evening session a day, 2 readings per session
about 1 min apart. Readings within 5 min form a session (averaged); sessions are tagged
morning/evening by patient-local time; day 1 is discarded and days 2–7 averaged; at least 3
usable days are needed. A 7-day mean ≥ 135/85 mmHg (China HBPM, ESC/ESH; AHA 2025: 130/80) is
"uncontrolled". This never pages: it feeds a worklist.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import fmean

from edge_rules.schedule import zone
from vitals.readings import BloodPressure

SESSION_GAP_S = 300.0
MORNING = (4, 12)  # local hours [4, 12)
EVENING = (17, 24)


@dataclass(frozen=True, slots=True)
class BpSession:
    start: datetime
    local_day: date
    slot: str  # "morning" | "evening" | "other"
    systolic: float
    diastolic: float
    readings: int


@dataclass(frozen=True, slots=True)
class HomeBpSummary:
    days_used: tuple[date, ...]
    sessions_used: int
    mean_systolic: float | None
    mean_diastolic: float | None
    adequate: bool  # >= 3 usable days after dropping day 1
    uncontrolled: bool
    threshold_systolic: float
    threshold_diastolic: float


def sessions(readings: Iterable[BloodPressure], tz: str) -> list[BpSession]:
    z = zone(tz)
    ordered = sorted(readings, key=lambda r: r.measured_at)
    groups: list[list[BloodPressure]] = []
    for r in ordered:
        if groups and (r.measured_at - groups[-1][-1].measured_at).total_seconds() <= SESSION_GAP_S:
            groups[-1].append(r)
        else:
            groups.append([r])
    out = []
    for g in groups:
        local = g[0].measured_at.astimezone(z)
        slot = ("morning" if MORNING[0] <= local.hour < MORNING[1]
                else "evening" if EVENING[0] <= local.hour < EVENING[1] else "other")
        out.append(BpSession(g[0].measured_at, local.date(), slot,
                             fmean(r.systolic for r in g), fmean(r.diastolic for r in g), len(g)))
    return out


def home_bp_722(readings: Iterable[BloodPressure], tz: str, *, threshold_systolic: float = 135.0,
                threshold_diastolic: float = 85.0, days: int = 7) -> HomeBpSummary:
    """Summarise the latest ``days``-day window of home readings (patient timezone ``tz``)."""
    usable = [s for s in sessions(readings, tz) if s.slot != "other"]
    if not usable:
        return HomeBpSummary((), 0, None, None, False, False, threshold_systolic,
                             threshold_diastolic)
    last_day = max(s.local_day for s in usable)
    window = [s for s in usable if s.local_day > last_day - timedelta(days=days)]
    day_list = sorted({s.local_day for s in window})
    kept_days = tuple(day_list[1:])  # protocol: discard the first day
    kept = [s for s in window if s.local_day in kept_days]
    if not kept:
        return HomeBpSummary((), 0, None, None, False, False, threshold_systolic,
                             threshold_diastolic)
    sys_mean = round(fmean(s.systolic for s in kept), 1)
    dia_mean = round(fmean(s.diastolic for s in kept), 1)
    adequate = len(kept_days) >= 3
    uncontrolled = adequate and (sys_mean >= threshold_systolic or dia_mean >= threshold_diastolic)
    return HomeBpSummary(kept_days, len(kept), sys_mean, dia_mean, adequate, uncontrolled,
                         threshold_systolic, threshold_diastolic)
