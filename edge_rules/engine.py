"""The rule engine: ``evaluate(readings, state, now, ruleset=…) -> (alerts, new_state)``.

Pure and deterministic: no I/O, no clock, no randomness (alert ids are derived from their
inputs), the given state is never mutated. Cost per reading is O(rules for its observable);
each call also runs a time pass over the patients' open alerts and stale-data rules, so the
gateway should call ``evaluate([], state, now, …)`` on a timer (every 30–60 s) as well as per
reading, to raise no-data alerts and deliver alerts held by quiet hours or a snooze.

Event policy for one (patient, rule): ``open`` when first sent; ``updated`` (same alert_id,
new msg_id) when the severity changes, when a snooze ends and the condition still holds, or
when the tier's ``repeat`` interval elapses; ``cleared`` when the condition has cleared (with
hysteresis). A snooze (rule, direction) holds events up to its severity only; quiet hours hold
non-urgent tiers only. Held events are sent when the hold ends if the condition still holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from edge_rules.explain import build_alert
from edge_rules.ids import derived_ulid
from edge_rules.model import (
    BpConfirmRule,
    Observation,
    QuietHoursPolicy,
    Rule,
    StaleRule,
    ThresholdRule,
)
from edge_rules.observations import (
    EcgAnalyzer,
    default_ecg_analyzer,
    observe,
    reading_span,
    stream_of,
)
from edge_rules.overrides import OverrideError, PatientContext, effective_ruleset, rule_version
from edge_rules.ruleset import RuleSet
from edge_rules.schedule import active_window, local_hhmm, window_end
from edge_rules.state import EngineState, OpenAlert, StateWriter, StreamSeen, Track
from edge_rules.steps import (
    active_severity,
    bp_severity,
    expire_bp,
    stale_inputs,
    stale_severity,
    step_bp,
    step_threshold,
)
from vitals.alerts import Alert, AlertState, Severity
from vitals.readings import BloodPressure, BpStatus, EcgStrip, ReadingBase

_DEFAULT_SENTINEL = object()
#: Readings stamped further than this after ``now`` are rejected (device clock wrong).
FUTURE_TOLERANCE_S = 300.0


@dataclass(frozen=True, slots=True)
class _Policy:
    quiet_hours: QuietHoursPolicy
    repeat_s: float | None
    max_snooze_s: float


def tier_policy(rule: Rule, severity: Severity) -> _Policy:
    """Quiet-hours policy, repeat interval and snooze cap of ``rule`` at ``severity``."""
    if isinstance(rule, ThresholdRule):
        t = rule.tier(severity) or rule.tiers[0]
        return _Policy(t.quiet_hours, t.repeat_s, t.max_snooze_s)
    if isinstance(rule, StaleRule):
        st = next((x for x in rule.tiers if x.severity == severity), rule.tiers[0])
        return _Policy(st.quiet_hours, st.repeat_s, st.max_snooze_s)
    if severity >= rule.severity:
        return _Policy(rule.quiet_hours, None, rule.max_snooze_s)
    return _Policy(QuietHoursPolicy.HOLD, None, rule.max_snooze_s)


def severities(rule: Rule) -> tuple[Severity, ...]:
    if isinstance(rule, BpConfirmRule):
        return (Severity.INFO, rule.severity) if rule.pending_info else (rule.severity,)
    return tuple(t.severity for t in rule.tiers)


class _Run:
    """One evaluate() call: the state writer, the output list and per-patient context."""

    def __init__(self, state: EngineState, now: datetime, ruleset: RuleSet,
                 overrides: Mapping[str, PatientContext] | None, origin: str) -> None:
        self.w = StateWriter(state)
        self.origin = origin
        self.now = now
        self.base = ruleset
        self.overrides = overrides or {}
        self.out: list[Alert] = []
        self._rules: dict[str, tuple[RuleSet, PatientContext | None]] = {}
        self.held: list[Held] = []
        self.errors: list[OverrideProblem] = []
        self.rejected: list[Rejected] = []

    def rules_for(self, patient: str) -> tuple[RuleSet, PatientContext | None]:
        hit = self._rules.get(patient)
        if hit is None:
            ctx = self.overrides.get(patient)
            try:
                rs = effective_ruleset(self.base, ctx)
            except OverrideError as exc:
                # A broken override must not silence the patient: fall back to the site rules
                # (timezone and quiet hours kept) and report it. Validate configs on arrival
                # with effective_ruleset() so this never happens in practice.
                self.errors.append(OverrideProblem(patient, str(exc)))
                assert ctx is not None
                rs, ctx = self._fallback(ctx)
            hit = self._rules[patient] = (rs, ctx)
        return hit

    def _fallback(self, ctx: PatientContext) -> tuple[RuleSet, PatientContext]:
        """Clinician layer alone if it is valid (a bad family layer is dropped), else the base."""
        if ctx.clinician is not None:
            clinician_only = PatientContext(ctx.timezone, ctx.quiet_hours, ctx.clinician)
            try:
                return effective_ruleset(self.base, clinician_only), clinician_only
            except OverrideError:
                pass
        return self.base, PatientContext(ctx.timezone, ctx.quiet_hours)

    # ---------------------------------------------------------------- emission

    def hold_reason(self, rule: Rule, track: Track, sev: Severity,
                    ctx: PatientContext | None) -> str | None:
        snz = track.snooze
        if snz is not None and self.now < snz.until and sev <= snz.severity:
            return f"snoozed until {snz.until:%H:%M} UTC"
        if tier_policy(rule, sev).quiet_hours is QuietHoursPolicy.BYPASS or ctx is None:
            return None
        window = active_window(ctx.quiet_hours, ctx.timezone, self.now)
        if window is None:
            return None
        end = window_end(window, ctx.timezone, self.now)
        return f"quiet hours {window} until {local_hhmm(end, ctx.timezone)} patient time"

    def reconcile(self, patient: str, rule: Rule, track: Track, desired: Severity | None,
                  rs: RuleSet, ctx: PatientContext | None, reason: str | None = None) -> None:
        now, a = self.now, track.alert
        tz = ctx.timezone if ctx else "UTC"
        version = rule_version(rs, ctx)
        if track.snooze is not None and now >= track.snooze.until:
            track.snooze = None
            if a is not None and a.emitted:
                a.renotify = True
        if desired is None:
            if a is not None:
                if a.emitted:
                    self.out.append(build_alert(patient=patient, rule=rule, rule_version=version,
                                                alert=a, state=AlertState.CLEARED, track=track,
                                                now=now, tz=tz, reason=reason,
                                                origin=self.origin))
                track.alert = None
            return
        if a is None:
            first = track.inputs[-1].msg_id if track.inputs else None
            key = f"{patient}/{rule.id}/{now.isoformat()}/{first}"
            a = track.alert = OpenAlert(derived_ulid(now, key), int(desired), now)
        previous, a.severity = a.severity, int(desired)
        state: AlertState | None = None
        repeat = tier_policy(rule, desired).repeat_s
        if not a.emitted:
            state = AlertState.OPEN
        elif a.emitted_severity != int(desired) or a.renotify or (
            repeat is not None and a.last_emit_at is not None
            and (now - a.last_emit_at).total_seconds() >= repeat
        ):
            state = AlertState.UPDATED
        if state is None:
            a.held = None  # nothing due, so nothing is being held back
            return
        held = self.hold_reason(rule, track, desired, ctx)
        if held is not None:
            if a.held != held or previous != a.severity:
                self.held.append(Held(patient, rule.id, a.alert_id, desired, held, now))
            a.held = held
            return
        if previous != a.severity:
            a.held = None  # a new severity is a new event: it was not the one held back
        self.out.append(build_alert(patient=patient, rule=rule, rule_version=version, alert=a,
                                    state=state, track=track, now=now, tz=tz,
                                    origin=self.origin))
        a.emitted, a.emitted_severity, a.last_emit_at = True, int(desired), now
        a.held, a.renotify = None, False

    # ---------------------------------------------------------------- readings

    def reading(self, reading: ReadingBase, analyzer: EcgAnalyzer | None) -> None:
        patient = reading.patient
        _, end = reading_span(reading)
        if (end - self.now).total_seconds() > FUTURE_TOLERANCE_S:
            # A future-dated reading (bad device clock) would hold off no-data alerts for as
            # long as it lies; it is reported, not evaluated.
            self.rejected.append(Rejected(patient, reading.msg_id, "measured in the future"))
            return
        if not self.w.remember_id(patient, stream_of(reading), reading.msg_id):
            return  # a re-upload of a reading already evaluated
        rs, ctx = self.rules_for(patient)
        self.w.see_stream(patient, stream_of(reading),
                          StreamSeen(end, reading.msg_id, reading.simulated))
        if (self.now - end).total_seconds() > rs.max_reading_age_s:
            return  # device-memory backfill: history, not a reason to page now
        observations = observe(reading, analyzer)
        if isinstance(reading, BloodPressure):
            irregular = BpStatus.IRREGULAR_PULSE in reading.status
            self._bp(patient, rs, ctx, observations, reading.msg_id if irregular else None)
        for o in observations:
            for rule in rs.threshold_rules(o.observable):
                if rule.enabled and (not rule.kinds or o.kind in rule.kinds):
                    track = self.w.write(patient, rule.id)
                    if step_threshold(rule, track, o):
                        self.reconcile(patient, rule, track, active_severity(rule, track), rs, ctx)

    def _bp(self, patient: str, rs: RuleSet, ctx: PatientContext | None,
            observations: list[Observation], flagged: str | None) -> None:
        by = {o.observable: o for o in observations}
        for rule in rs.bp_rules():
            if rule.enabled:
                if (prior := self.w.read(patient, rule.id)) is not None and (
                        prior.last_end is not None and by["systolic"].end <= prior.last_end):
                    continue  # older than (or as old as) a cuff reading already evaluated
                track = self.w.write(patient, rule.id)
                track.last_end = by["systolic"].end
                if flagged is not None:
                    track.flagged = [*track.flagged[-3:], flagged]
                # a pending first reading whose window has passed expires before this one counts
                expired = expire_bp(rule, track, by["systolic"].end)
                if expired is not None:
                    self.reconcile(patient, rule, track, bp_severity(rule, track), rs, ctx, expired)
                reason = step_bp(rule, track, by["systolic"], by["diastolic"])
                self.reconcile(patient, rule, track, bp_severity(rule, track), rs, ctx, reason)

    # ---------------------------------------------------------------- time pass

    def tick(self) -> None:
        state = self.w.new
        for patient in sorted(set(state.tracks) | set(state.streams)):
            rs, ctx = self.rules_for(patient)
            streams = state.streams.get(patient, {})
            for rule in rs.rules:
                track = self.w.read(patient, rule.id)
                if isinstance(rule, StaleRule):
                    seen = streams.get(rule.stream)
                    desired = stale_severity(rule, seen, self.now) if rule.enabled else None
                    if desired is None and (track is None or track.alert is None):
                        continue
                    if (track is not None and track.alert is not None and desired is not None
                            and track.alert.emitted and track.alert.severity == desired
                            and not self._time_due(rule, track)):
                        continue  # already sent at this severity: nothing new to say
                    track = self.w.write(patient, rule.id)
                    if seen is not None:
                        track.inputs = stale_inputs(seen, self.now)
                    self.reconcile(patient, rule, track, desired, rs, ctx)
                elif track is not None and self._time_due(rule, track):
                    track = self.w.write(patient, rule.id)
                    reason = None
                    if isinstance(rule, BpConfirmRule):
                        reason = expire_bp(rule, track, self.now)
                        desired = bp_severity(rule, track) if rule.enabled else None
                    else:
                        desired = active_severity(rule, track) if rule.enabled else None
                    self.reconcile(patient, rule, track, desired, rs, ctx, reason)

    def _time_due(self, rule: Rule, track: Track) -> bool:
        """Could the clock alone change what this track emits? (cheap, read-only)"""
        a = track.alert
        if track.snooze is not None and self.now >= track.snooze.until:
            return True
        if isinstance(rule, BpConfirmRule) and track.pending:
            return True
        if a is None:
            return False
        if not a.emitted or a.renotify or not rule.enabled:
            return True
        repeat = tier_policy(rule, Severity(a.severity)).repeat_s
        return repeat is not None and a.last_emit_at is not None and (
            (self.now - a.last_emit_at).total_seconds() >= repeat
        )


@dataclass(frozen=True, slots=True)
class Held:
    """An alert event not sent (yet) because of a snooze or quiet hours — for the audit log."""

    patient: str
    rule_id: str
    alert_id: str
    severity: Severity
    reason: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Rejected:
    patient: str
    msg_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class OverrideProblem:
    patient: str
    error: str


@dataclass(frozen=True, slots=True)
class Evaluation:
    alerts: list[Alert]
    state: EngineState
    held: list[Held]  # new holds only (not repeated every tick)
    override_errors: list[OverrideProblem]
    rejected: list[Rejected]


def evaluate(
    readings: Iterable[ReadingBase],
    state: EngineState,
    now: datetime,
    *,
    ruleset: RuleSet,
    overrides: Mapping[str, PatientContext] | None = None,
    ecg_analyzer: EcgAnalyzer | object | None = _DEFAULT_SENTINEL,
    origin: str = "gateway",
) -> tuple[list[Alert], EngineState]:
    """Evaluate new readings (possibly none: a timer tick) at instant ``now``.

    ``overrides`` maps patient pseudonym → :class:`PatientContext` (timezone, quiet hours,
    clinician and family overrides). ``ecg_analyzer`` defaults to ``edge_rules.ecg.analyze``.
    ``origin`` ("gateway" or "cloud") is stamped on every alert.
    Readings are processed in (measured_at, msg_id) order, so the result does not depend on
    the order they were passed in.
    """
    result = evaluate_detailed(readings, state, now, ruleset=ruleset, overrides=overrides,
                               ecg_analyzer=ecg_analyzer, origin=origin)
    return result.alerts, result.state


def evaluate_detailed(
    readings: Iterable[ReadingBase],
    state: EngineState,
    now: datetime,
    *,
    ruleset: RuleSet,
    overrides: Mapping[str, PatientContext] | None = None,
    ecg_analyzer: EcgAnalyzer | object | None = _DEFAULT_SENTINEL,
    origin: str = "gateway",
) -> Evaluation:
    """:func:`evaluate` plus the suppression decisions and override problems, for logging."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (UTC)")
    batch = sorted(readings, key=lambda r: (r.measured_at, r.msg_id))
    analyzer: EcgAnalyzer | None = None
    if ecg_analyzer is not _DEFAULT_SENTINEL:
        analyzer = cast("EcgAnalyzer | None", ecg_analyzer)
    elif any(isinstance(r, EcgStrip) for r in batch):
        analyzer = default_ecg_analyzer()  # imported on first use (numpy/scipy start-up)
    run = _Run(state, now, ruleset, overrides, origin)
    for reading in batch:
        run.reading(reading, analyzer)
    run.tick()
    return Evaluation(run.out, run.w.new, run.held, run.errors, run.rejected)
