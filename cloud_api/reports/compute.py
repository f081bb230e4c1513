"""Report arithmetic (pure functions on readings; no I/O).

* Home BP by the 7-2-2 protocol (clinical.md §2.1): sessions are readings ≤ 5 min apart,
  averaged; morning [04:00, 12:00) and evening [17:00, 24:00) in the patient's zone;
  day 1 dropped, days 2–7 averaged; ≥ 3 days needed; mean ≥ 135/85 mmHg flagged.
  Sessions and the mean come from ``edge_rules.home_bp`` so gateway, worklist and report
  agree.
* Glucose (ATTD 2019 International Consensus on Time in Range; ADA Standards §6):
  TIR 70–180 mg/dL inclusive, TBR < 70 and < 54, TAR > 180 and > 250, as shares of
  readings (cumulative: "< 70" includes "< 54"); GMI (%) = 3.31 + 0.02392 × mean mg/dL
  (Bergenstal et al., Diabetes Care 2018) — an estimate, not a lab HbA1c; CV = sample
  SD / mean × 100 (target ≤ 36 %). Control-solution and LO/HI-flagged readings are left out.
* Adherence: days with at least one reading per device kind in the last N days
  (patient-local dates); CMS RPM billing counts 16 of 30 days.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from statistics import fmean, stdev
from typing import Any

from edge_rules.home_bp import home_bp_722, sessions
from edge_rules.schedule import zone
from vitals.readings import BloodPressure, Glucose

BP_SOURCE = ("7-2-2 home BP protocol (Chinese HBPM guidance); home mean ≥ 135/85 mmHg: "
             "China 2018/2024 and ESC/ESH; AHA/ACC 2025 uses ≥ 130/80")
GLUCOSE_SOURCE = ("Battelino et al., International Consensus on Time in Range, Diabetes Care "
                  "2019 (ATTD); ADA Standards of Care §6; GMI: Bergenstal et al., Diabetes "
                  "Care 2018")
ADHERENCE_SOURCE = "CMS remote physiologic monitoring: data on ≥ 16 of 30 days"


def home_bp_report(readings: Iterable[BloodPressure], tz: str, *,
                   threshold: tuple[float, float] = (135.0, 85.0)) -> dict[str, Any]:
    bp = list(readings)
    summary = home_bp_722(bp, tz, threshold_systolic=threshold[0],
                          threshold_diastolic=threshold[1])
    all_sessions = sessions(bp, tz)
    kept = set(summary.days_used)
    rows = [{
        "local_day": s.local_day.isoformat(), "slot": s.slot, "start": s.start.isoformat(),
        "readings": s.readings, "systolic": round(s.systolic, 1),
        "diastolic": round(s.diastolic, 1),
        "used": s.local_day in kept and s.slot != "other",
    } for s in all_sessions]
    used = [s for s in all_sessions if s.local_day in kept and s.slot != "other"]

    def slot_mean(slot: str) -> dict[str, float] | None:
        chosen = [s for s in used if s.slot == slot]
        if not chosen:
            return None
        return {"systolic": round(fmean(s.systolic for s in chosen), 1),
                "diastolic": round(fmean(s.diastolic for s in chosen), 1),
                "sessions": len(chosen)}

    return {
        "timezone": tz, "sessions": rows,
        "morning": slot_mean("morning"), "evening": slot_mean("evening"),
        "days_used": [d.isoformat() for d in summary.days_used],
        "sessions_used": summary.sessions_used,
        "mean_systolic": summary.mean_systolic, "mean_diastolic": summary.mean_diastolic,
        "adequate": summary.adequate, "above_threshold": summary.uncontrolled,
        "threshold": {"systolic": threshold[0], "diastolic": threshold[1]},
        "source": BP_SOURCE,
    }


@dataclass(frozen=True, slots=True)
class GlucoseSummary:
    readings: int
    mean_mg_dl: float | None
    tir_70_180_pct: float | None
    tbr_below_70_pct: float | None
    tbr_below_54_pct: float | None
    tar_above_180_pct: float | None
    tar_above_250_pct: float | None
    gmi_pct_estimate: float | None
    cv_pct: float | None


def glucose_summary(values_mg_dl: Sequence[float]) -> GlucoseSummary:
    n = len(values_mg_dl)
    if n == 0:
        return GlucoseSummary(0, None, None, None, None, None, None, None, None)

    def pct(pred: Any) -> float:
        return round(100.0 * sum(1 for v in values_mg_dl if pred(v)) / n, 1)

    mean = fmean(values_mg_dl)
    cv = round(100.0 * stdev(values_mg_dl) / mean, 1) if n >= 2 else None
    return GlucoseSummary(
        n, round(mean, 1), pct(lambda v: 70 <= v <= 180), pct(lambda v: v < 70),
        pct(lambda v: v < 54), pct(lambda v: v > 180), pct(lambda v: v > 250),
        round(3.31 + 0.02392 * mean, 2), cv,
    )


def glucose_report(readings: Iterable[Glucose]) -> dict[str, Any]:
    usable = [g.mg_dl for g in readings if not g.control_solution and g.range_flag is None]
    return {**asdict(glucose_summary(usable)),
            "targets": {"tir_70_180_pct": "> 70", "tbr_below_70_pct": "< 4",
                        "tbr_below_54_pct": "< 1", "tar_above_180_pct": "< 25",
                        "tar_above_250_pct": "< 5", "cv_pct": "≤ 36"},
            "gmi_note": "GMI estimates HbA1c from mean glucose; it is not a laboratory value",
            "source": GLUCOSE_SOURCE}


def adherence_report(points: Iterable[tuple[str, datetime]], tz: str, end: datetime,
                     days: int = 30) -> dict[str, Any]:
    """``points``: (kind, measured_at). Counts distinct local days per kind in the window
    of ``days`` local days ending with ``end``'s local date."""
    z = zone(tz)
    last = end.astimezone(z).date()
    first = last - timedelta(days=days - 1)
    seen: dict[str, set[date]] = {}
    for kind, at in points:
        d = at.astimezone(z).date()
        if first <= d <= last:
            seen.setdefault(kind, set()).add(d)
    return {"from": first.isoformat(), "to": last.isoformat(), "days": days, "timezone": tz,
            "by_kind": {k: {"days_with_data": len(v),
                            "share_pct": round(100.0 * len(v) / days, 1)}
                        for k, v in sorted(seen.items())},
            "source": ADHERENCE_SOURCE}
