"""Compiled rule values: what the engine evaluates.

Rules are frozen, hashable dataclasses in canonical units (mg/dL, mmHg, bpm, seconds),
compiled from TOML tables by :mod:`edge_rules.ruleset`. Three rule types:

* ``threshold`` — one observable (glucose, heart rate, ECG flags) crossing tiered limits,
  with persistence (N readings and/or a duration) and a separate clear limit (hysteresis);
* ``bp_confirm`` — severe blood pressure, paged only when a second reading 1–5 min after
  the first is also above the limit;
* ``stale`` — a stream (CGM, ECG) or spot device (cuff, meter) that stopped reporting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from vitals.alerts import Severity

#: Urgent tiers can never be snoozed for longer than this (clinical.md §1.4: ~15 min floor).
URGENT_SNOOZE_CAP_S = 15 * 60.0


class Direction(StrEnum):
    BELOW = "below"
    ABOVE = "above"


class Op(StrEnum):
    LT = "lt"
    LE = "le"
    GT = "gt"
    GE = "ge"

    @property
    def direction(self) -> Direction:
        return Direction.BELOW if self in (Op.LT, Op.LE) else Direction.ABOVE

    @property
    def symbol(self) -> str:
        return {"lt": "<", "le": "≤", "gt": ">", "ge": "≥"}[self.value]

    def holds(self, value: float, limit: float) -> bool:
        if self is Op.LT:
            return value < limit
        if self is Op.LE:
            return value <= limit
        if self is Op.GT:
            return value > limit
        return value >= limit


class QuietHoursPolicy(StrEnum):
    HOLD = "hold"  # delayed until the window ends
    BYPASS = "bypass"  # delivered at once, even at night


@dataclass(frozen=True, slots=True)
class Tier:
    """One severity level of a threshold rule."""

    severity: Severity
    op: Op
    limit: float
    #: Back on the safe side of this value clears the tier (below-rules: value >= clear).
    clear: float
    for_readings: int = 1
    for_s: float = 0.0
    clear_readings: int = 1
    clear_for_s: float = 0.0
    max_snooze_s: float = 3600.0
    quiet_hours: QuietHoursPolicy = QuietHoursPolicy.HOLD
    repeat_s: float | None = None

    def breached(self, value: float) -> bool:
        return self.op.holds(value, self.limit)

    def cleared(self, value: float) -> bool:
        if self.op.direction is Direction.BELOW:
            return value >= self.clear
        return value <= self.clear


@dataclass(frozen=True, slots=True)
class ThresholdRule:
    id: str
    title: str
    source: str
    observable: str
    unit: str  # display unit as written in the rule file (thresholds stored canonical)
    direction: Direction
    tiers: tuple[Tier, ...]  # ascending severity
    kinds: tuple[str, ...] = ()  # reading kinds that feed it; empty = all producing observable
    max_gap_s: float | None = None  # a longer gap between readings restarts persistence
    note: str = ""
    enabled: bool = True

    def tier(self, severity: Severity) -> Tier | None:
        return next((t for t in self.tiers if t.severity == severity), None)


@dataclass(frozen=True, slots=True)
class BpConfirmRule:
    id: str
    title: str
    source: str
    severity: Severity
    systolic_ge: float
    diastolic_ge: float
    confirm_min_s: float = 60.0
    confirm_max_s: float = 300.0
    pending_info: bool = True
    clear_systolic_lt: float = 160.0
    clear_diastolic_lt: float = 100.0
    clear_readings: int = 2
    max_snooze_s: float = URGENT_SNOOZE_CAP_S
    quiet_hours: QuietHoursPolicy = QuietHoursPolicy.BYPASS
    note: str = ""
    enabled: bool = True
    direction: Direction = Direction.ABOVE


@dataclass(frozen=True, slots=True)
class StaleTier:
    severity: Severity
    after_s: float
    max_snooze_s: float = 3600.0
    quiet_hours: QuietHoursPolicy = QuietHoursPolicy.HOLD
    repeat_s: float | None = None


@dataclass(frozen=True, slots=True)
class StaleRule:
    id: str
    title: str
    source: str
    stream: str
    tiers: tuple[StaleTier, ...]  # ascending severity
    note: str = ""
    enabled: bool = True
    direction: Direction = Direction.ABOVE  # "time since last reading" above a limit


Rule = ThresholdRule | BpConfirmRule | StaleRule


@dataclass(frozen=True, slots=True)
class Observation:
    """One value a rule can test, derived from a reading (or from an ECG strip analysis).

    ``start``/``end`` span the measurement (equal for spot readings; a 10-s ECG strip spans
    10 s), so "sustained for 30 s" is measured on the data, not on arrival times. A NaN
    ``value`` means "present but unusable" (e.g. a noisy ECG strip): it breaks persistence
    without counting towards either raising or clearing.
    """

    patient: str
    observable: str
    value: float
    unit: str
    start: datetime
    end: datetime
    msg_id: str | None
    simulated: bool
    kind: str
    stream: str
    #: e.g. "meter shows LO": the value is the meter's limit, not a measurement
    note: str | None = None
