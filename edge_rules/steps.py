"""Per-rule state transitions: one observation (or one tick) in, desired severity out.

Each function updates a :class:`~edge_rules.state.Track` in place (the engine hands it a
private copy) and returns the severity the rule currently wants open, or ``None``.
Persistence and clearing are judged on *measurement* times, so a burst of backfilled
readings is judged as it happened, not as it arrived.
"""

from __future__ import annotations

import math
from datetime import datetime

from edge_rules.model import BpConfirmRule, Observation, StaleRule, ThresholdRule
from edge_rules.state import InputRef, StreamSeen, TierTrack, Track
from vitals.alerts import Severity

#: Inputs kept on a threshold alert (the latest readings that drove it).
KEEP_INPUTS = 3


def ref(o: Observation) -> InputRef:
    return InputRef(o.msg_id, o.observable, o.value, o.unit, o.end, o.simulated, o.note)


def active_severity(rule: ThresholdRule, track: Track) -> Severity | None:
    active = [t.severity for t in rule.tiers if track.tiers.get(t.severity.label, _IDLE).active]
    return max(active) if active else None


_IDLE = TierTrack()


def step_threshold(rule: ThresholdRule, track: Track, o: Observation) -> bool:
    """Feed one observation; False when it was ignored (older than what was already seen)."""
    if track.last_end is not None and o.end < track.last_end:
        return False
    gap = (
        track.last_end is not None
        and rule.max_gap_s is not None
        and (o.start - track.last_end).total_seconds() > rule.max_gap_s
    )
    track.last_end = o.end
    unusable = math.isnan(o.value)
    if not unusable:
        track.inputs = [*track.inputs[-(KEEP_INPUTS - 1):], ref(o)]
    for tier in rule.tiers:
        tt = track.tiers.setdefault(tier.severity.label, TierTrack())
        if unusable or gap:
            tt.clear_since, tt.clear_count = None, 0
            if not tt.active:
                tt.breach_since, tt.breach_count = None, 0
        if unusable:
            continue
        if not tt.active:
            if not tier.breached(o.value):
                tt.breach_since, tt.breach_count = None, 0
                continue
            if tt.breach_since is None:
                tt.breach_since, tt.breach_count = o.start, 0
            tt.breach_count += 1
            held_s = (o.end - tt.breach_since).total_seconds()
            if tt.breach_count >= tier.for_readings and held_s >= tier.for_s:
                tt.active = True
                tt.clear_since, tt.clear_count = None, 0
        elif tier.cleared(o.value):
            if tt.clear_since is None:
                tt.clear_since, tt.clear_count = o.start, 0
            tt.clear_count += 1
            held_s = (o.end - tt.clear_since).total_seconds()
            if tt.clear_count >= tier.clear_readings and held_s >= tier.clear_for_s:
                tt.active = False
                tt.breach_since, tt.breach_count = None, 0
                tt.clear_since, tt.clear_count = None, 0
        else:
            tt.clear_since, tt.clear_count = None, 0
    return True


def bp_severity(rule: BpConfirmRule, track: Track) -> Severity | None:
    if track.confirmed:
        return rule.severity
    if track.pending and rule.pending_info:
        return Severity.INFO
    return None


def step_bp(
    rule: BpConfirmRule, track: Track, sys_o: Observation, dia_o: Observation
) -> str | None:
    """Feed one cuff reading. Returns a reason text when this reading closes the alert."""
    pair = [ref(sys_o), ref(dia_o)]
    t = sys_o.end
    high = sys_o.value >= rule.systolic_ge or dia_o.value >= rule.diastolic_ge
    if track.confirmed:
        below = sys_o.value < rule.clear_systolic_lt and dia_o.value < rule.clear_diastolic_lt
        track.clear_count = track.clear_count + 1 if below else 0
        track.inputs = [*track.inputs[-2:], *pair] if below else pair
        if track.clear_count >= rule.clear_readings:
            track.confirmed, track.clear_count = False, 0
            return (f"{rule.clear_readings} consecutive readings below "
                    f"{rule.clear_systolic_lt:.0f}/{rule.clear_diastolic_lt:.0f} mmHg")
        return None
    first = track.pending[0].measured_at if track.pending else None
    since = (t - first).total_seconds() if first is not None else None
    if high:
        if since is not None and rule.confirm_min_s <= since <= rule.confirm_max_s:
            track.inputs = [*track.pending, *pair]
            track.pending, track.confirmed, track.clear_count = [], True, 0
        elif since is not None and 0 <= since < rule.confirm_min_s:
            pass  # re-measured too soon: keep waiting for a reading after seated rest
        else:
            track.pending, track.inputs = pair, pair
        return None
    if since is not None and 0 <= since <= rule.confirm_max_s:
        track.pending, track.inputs = [], [*track.pending, *pair]
        return "the re-measurement was below the severe limit: the high reading was not confirmed"
    return None


def expire_bp(rule: BpConfirmRule, track: Track, now: datetime) -> str | None:
    if track.pending and (now - track.pending[0].measured_at).total_seconds() > rule.confirm_max_s:
        track.pending = []
        return "no confirming re-measurement within the window"
    return None


def stale_severity(rule: StaleRule, seen: StreamSeen | None, now: datetime) -> Severity | None:
    if seen is None:
        return None
    gap = (now - seen.last_end).total_seconds()
    hit = [t.severity for t in rule.tiers if gap >= t.after_s]
    return max(hit) if hit else None


def stale_inputs(seen: StreamSeen, now: datetime) -> list[InputRef]:
    minutes = round((now - seen.last_end).total_seconds() / 60.0, 1)
    return [InputRef(seen.msg_id, "minutes_since_last_reading", minutes, "min", seen.last_end,
                     seen.simulated)]
