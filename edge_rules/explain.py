"""Alert construction and plain-language explanations.

An explanation says what was measured, when (patient-local time), and which limit it crossed
(or which clear limit it came back to) — never a diagnosis. The rule's ``note`` (what to do,
from the rule file) follows.
"""

from __future__ import annotations

from datetime import datetime

from edge_rules.ids import derived_ulid
from edge_rules.model import BpConfirmRule, Direction, Rule, StaleRule, ThresholdRule
from edge_rules.ruleset import format_duration
from edge_rules.schedule import local_hhmm
from edge_rules.state import InputRef, OpenAlert, Track
from vitals.alerts import Alert, AlertInput, AlertState, Severity
from vitals.units import MGDL_PER_MMOLL

_LABELS = {
    "glucose": "Glucose",
    "heart_rate": "Heart rate",
    "systolic": "Systolic pressure",
    "diastolic": "Diastolic pressure",
    "spo2": "SpO2",
}
_STREAMS = {
    "cgm": "CGM glucose",
    "ecg": "ECG",
    "heart_rate": "heart-rate",
    "bp": "blood-pressure",
    "glucose_meter": "glucose-meter",
    "spo2": "SpO2",
    "body_weight": "weight",
}


def _num(value: float, unit: str) -> str:
    if unit == "mmol/L":
        return f"{value / MGDL_PER_MMOLL:.1f} mmol/L"
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return f"{text} {unit}" if unit not in ("flag",) else text


def thresholds(rule: Rule) -> dict[str, float]:
    if isinstance(rule, ThresholdRule):
        out: dict[str, float] = {}
        for t in rule.tiers:
            out[f"{t.severity.label}_{t.op.value}"] = t.limit
            out[f"{t.severity.label}_clear"] = t.clear
            if t.for_s:
                out[f"{t.severity.label}_for_s"] = t.for_s
        return out
    if isinstance(rule, BpConfirmRule):
        return {
            "systolic_ge": rule.systolic_ge,
            "diastolic_ge": rule.diastolic_ge,
            "confirm_min_s": rule.confirm_min_s,
            "confirm_max_s": rule.confirm_max_s,
            "clear_systolic_lt": rule.clear_systolic_lt,
            "clear_diastolic_lt": rule.clear_diastolic_lt,
        }
    return {f"{t.severity.label}_after_s": t.after_s for t in rule.tiers}


def _explain_threshold(rule: ThresholdRule, sev: Severity, state: AlertState, track: Track,
                       tz: str) -> str:
    last = track.inputs[-1] if track.inputs else None
    tier = rule.tier(sev) or rule.tiers[0]
    at = local_hhmm(last.measured_at, tz) if last else "?"
    unit = rule.unit
    if state is AlertState.CLEARED:
        if rule.observable == "ecg_af":
            quiet_for = format_duration(tier.clear_for_s)
            return (f"No irregular rhythm pattern in the ECG for {quiet_for}"
                    f" (last strip {at}); alert cleared.")
        side = "at or above" if rule.direction is Direction.BELOW else "at or below"
        hold = f" for {format_duration(tier.clear_for_s)}" if tier.clear_for_s else ""
        value = _num(last.value, unit) if last else "?"
        return (f"{_LABELS.get(rule.observable, rule.observable)} back to {value} at {at}, {side} "
                f"the clear limit of {_num(tier.clear, unit)}{hold}; alert cleared.")
    tt = track.tiers.get(sev.label)
    since = local_hhmm(tt.breach_since, tz) if tt and tt.breach_since else at
    if rule.observable == "ecg_af":
        text = (f"Irregular rhythm pattern in the ECG (possible atrial fibrillation) since {since},"
                " "
                f"lasting at least {format_duration(tier.for_s)}; {sev.label} limit.")
    elif rule.observable == "ecg_pause":
        value = _num(last.value, "s") if last else "?"
        text = (f"A pause of {value} between heartbeats in the ECG at {at}, "
                f"{tier.op.symbol} {_num(tier.limit, 's')} ({sev.label} limit).")
    elif last is not None and not tier.breached(last.value):
        side = "at or above" if rule.direction is Direction.BELOW else "at or below"
        hold = f" for {format_duration(tier.clear_for_s)}" if tier.clear_for_s else ""
        text = (f"{_LABELS.get(rule.observable, rule.observable)} {_num(last.value, unit)} at {at} "
                f"is back within the {sev.label} limit ({tier.op.symbol} {_num(tier.limit, unit)}) "
                f"but has not yet stayed {side} {_num(tier.clear, unit)}{hold}; the alert stays "
                f"open at {sev.label} level.")
    else:
        value = _num(last.value, unit) if last else "?"
        if last is not None and last.note:
            value += f" ({last.note})"
        side = "below" if rule.direction is Direction.BELOW else "above"
        persist = ""
        if tier.for_s:
            persist = f", sustained since {since} (at least {format_duration(tier.for_s)})"
        elif tier.for_readings > 1:
            persist = f" on {tier.for_readings} consecutive readings"
        text = (f"{_LABELS.get(rule.observable, rule.observable)} {value} measured at {at} is "
                f"{side} the {sev.label} limit ({tier.op.symbol} {_num(tier.limit, unit)})"
                f"{persist}.")
    return text


def _bp(ref_s: InputRef, ref_d: InputRef, tz: str) -> str:
    return f"{ref_s.value:.0f}/{ref_d.value:.0f} mmHg at {local_hhmm(ref_s.measured_at, tz)}"


def _explain_bp(rule: BpConfirmRule, sev: Severity, state: AlertState, track: Track, tz: str,
                reason: str | None) -> str:
    limit = (f"systolic ≥ {rule.systolic_ge:.0f} or diastolic ≥ {rule.diastolic_ge:.0f} mmHg")
    pairs = list(zip(track.inputs[0::2], track.inputs[1::2], strict=False))
    readings = " and ".join(_bp(s, d, tz) for s, d in pairs) or "?"
    if state is AlertState.CLEARED:
        return f"Blood pressure {readings}: {reason or 'below the clear limits'}; alert cleared."
    flagged = {i.msg_id for i in track.inputs} & set(track.flagged)
    caveat = (" The cuff flagged an irregular pulse; cuff readings are less reliable then."
              if flagged else "")
    if sev >= rule.severity:
        return (f"Blood pressure {readings}: both readings, taken "
                f"{format_duration(rule.confirm_min_s)}–{format_duration(rule.confirm_max_s)} "
                f"apart, are at or above the severe limit ({limit}).{caveat}")
    return (f"One blood-pressure reading {readings} is at or above the severe limit ({limit}). "
            f"Re-measure after {format_duration(rule.confirm_min_s)} of seated rest (within "
            f"{format_duration(rule.confirm_max_s)}); a single reading pages no one.{caveat}")


def _explain_stale(rule: StaleRule, sev: Severity, state: AlertState, track: Track,
                   tz: str) -> str:
    what = _STREAMS.get(rule.stream, rule.stream)
    last = track.inputs[-1] if track.inputs else None
    at = local_hhmm(last.measured_at, tz) if last else "?"
    if state is AlertState.CLEARED:
        return f"{what[0].upper()}{what[1:]} readings resumed (latest at {at}); alert cleared."
    tier = next((t for t in rule.tiers if t.severity == sev), rule.tiers[0])
    gap = format_duration(round(last.value) * 60) if last else "?"
    return (f"No {what} reading for {gap} (last at {at}); the {sev.label} limit is "
            f"{format_duration(tier.after_s)} without data.")


def explanation(rule: Rule, sev: Severity, state: AlertState, track: Track, tz: str,
                reason: str | None = None) -> str:
    if isinstance(rule, ThresholdRule):
        text = _explain_threshold(rule, sev, state, track, tz)
    elif isinstance(rule, BpConfirmRule):
        text = _explain_bp(rule, sev, state, track, tz, reason)
    else:
        text = _explain_stale(rule, sev, state, track, tz)
    if track.alert is not None and track.alert.held and state is not AlertState.CLEARED:
        text += f" (Delayed: {track.alert.held}.)"
    if rule.note and state is not AlertState.CLEARED:
        text += " " + rule.note
    return text[:2000]


def build_alert(*, patient: str, rule: Rule, rule_version: str, alert: OpenAlert,
                state: AlertState, track: Track, now: datetime, tz: str,
                reason: str | None = None, origin: str = "gateway") -> Alert:
    sev = Severity(alert.severity)
    alert.events += 1
    title = rule.title
    if isinstance(rule, BpConfirmRule) and sev < rule.severity:
        title += " — awaiting re-measurement"
    inputs = tuple(
        AlertInput(msg_id=i.msg_id, observable=i.observable, value=i.value, unit=i.unit,
                   measured_at=i.measured_at)
        for i in track.inputs
    )
    return Alert(
        alert_id=alert.alert_id,
        msg_id=derived_ulid(now, f"{alert.alert_id}/{alert.events}"),
        patient=patient,
        rule_id=rule.id,
        rule_version=rule_version,
        severity=sev,
        state=state,
        title=title[:200],
        explanation=explanation(rule, sev, state, track, tz, reason),
        inputs=inputs,
        thresholds=thresholds(rule),
        source=rule.source[:500],
        raised_at=alert.raised_at,
        updated_at=now,
        cleared_at=now if state is AlertState.CLEARED else None,
        simulated=any(i.simulated for i in track.inputs),
        origin=origin,
    )
