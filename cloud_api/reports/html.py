"""A printable report page: plain HTML with inline CSS, no scripts or external assets."""

from __future__ import annotations

from html import escape
from typing import Any


def _row(*cells: Any, tag: str = "td") -> str:
    return "<tr>" + "".join(f"<{tag}>{escape(str(c))}</{tag}>" for c in cells) + "</tr>"


def _fmt(v: Any, suffix: str = "") -> str:
    return "–" if v is None else f"{v}{suffix}"


def render(patient: str, generated: str, bp: dict[str, Any], glucose: dict[str, Any],
           adherence: dict[str, Any]) -> str:
    flag = ("<strong>7-day mean at or above threshold</strong>" if bp["above_threshold"]
            else "below threshold" if bp["adequate"] else "not enough days (need ≥ 3)")
    sessions = "".join(_row(s["local_day"], s["slot"], s["readings"], s["systolic"],
                            s["diastolic"], "yes" if s["used"] else "no")
                       for s in bp["sessions"])
    g = glucose
    adh = "".join(_row(k, v["days_with_data"], f"{v['share_pct']} %")
                  for k, v in adherence["by_kind"].items())
    header = _row("day", "session", "readings", "systolic", "diastolic", "used", tag="th")
    slots = "".join(
        _row(name, f"{m['systolic']}/{m['diastolic']} mmHg", m["sessions"])
        for name, m in (("morning", bp["morning"]), ("evening", bp["evening"])) if m)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>HomeRPM report {escape(patient)}</title>
<style>
body{{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#111}}
table{{border-collapse:collapse;margin:.5em 0 1.5em}}td,th{{border:1px solid #999;padding:2px 8px}}
th{{background:#eee}}.note{{color:#555;font-size:12px}}@media print{{body{{margin:0}}}}
</style></head><body>
<h1>Monitoring report — patient {escape(patient)}</h1>
<p class="note">Generated {escape(generated)}. HomeRPM reports measurements and the limits
they crossed; it does not diagnose.</p>
<h2>Home blood pressure (7-2-2)</h2>
<p>Mean of days {escape(", ".join(bp["days_used"]) or "–")} (day 1 dropped,
{bp["sessions_used"]} sessions, timezone {escape(bp["timezone"])}):
<strong>{_fmt(bp["mean_systolic"])}/{_fmt(bp["mean_diastolic"])} mmHg</strong> —
{flag} ({bp["threshold"]["systolic"]:g}/{bp["threshold"]["diastolic"]:g}).</p>
<table>{_row("sessions", "mean", "count", tag="th")}{slots}</table>
<table>{header}{sessions}</table>
<h2>Glucose</h2>
<table>{_row("measure", "value", "target", tag="th")}
{_row("readings", g["readings"], "")}
{_row("mean", _fmt(g["mean_mg_dl"], " mg/dL"), "")}
{_row("time in range 70–180", _fmt(g["tir_70_180_pct"], " %"), "> 70 %")}
{_row("below 70", _fmt(g["tbr_below_70_pct"], " %"), "< 4 %")}
{_row("below 54", _fmt(g["tbr_below_54_pct"], " %"), "< 1 %")}
{_row("above 180", _fmt(g["tar_above_180_pct"], " %"), "< 25 %")}
{_row("above 250", _fmt(g["tar_above_250_pct"], " %"), "< 5 %")}
{_row("GMI (estimate, not a lab HbA1c)", _fmt(g["gmi_pct_estimate"], " %"), "")}
{_row("coefficient of variation", _fmt(g["cv_pct"], " %"), "≤ 36 %")}</table>
<h2>Adherence ({escape(adherence["from"])} to {escape(adherence["to"])})</h2>
<table>{_row("device kind", "days with data", "share", tag="th")}{adh}</table>
<h2>Sources</h2><ul class="note"><li>{escape(bp["source"])}</li><li>{escape(g["source"])}</li>
<li>{escape(adherence["source"])}</li></ul>
</body></html>
"""
