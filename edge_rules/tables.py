"""Rule tables: durations, unit normalisation and validation of one rule table.

A rule table is the TOML (or JSON) form of one rule; :func:`compile_rule` turns a table in
canonical units into a frozen rule value and raises :class:`RuleSetError` naming the file, the
rule id, the field and the reason on anything it does not accept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from itertools import pairwise
from typing import Any

from edge_rules.model import (
    URGENT_SNOOZE_CAP_S,
    BpConfirmRule,
    Direction,
    Op,
    QuietHoursPolicy,
    Rule,
    StaleRule,
    StaleTier,
    ThresholdRule,
    Tier,
)
from vitals.alerts import Severity
from vitals.units import GlucoseUnit, to_mgdl

#: Canonical unit of every observable a threshold rule may test.
OBSERVABLES: dict[str, str] = {
    "glucose": "mg/dL",
    "heart_rate": "bpm",
    "systolic": "mmHg",
    "diastolic": "mmHg",
    "spo2": "%",
    "ecg_af": "flag",
    "ecg_pause": "s",
}
STREAMS = ("cgm", "ecg", "heart_rate", "bp", "glucose_meter", "spo2", "body_weight")
_THRESHOLD_KEYS = ("lt", "le", "gt", "ge", "clear")
_BP_VALUE_KEYS = ("systolic_ge", "diastolic_ge", "clear_systolic_lt", "clear_diastolic_lt")
_ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_NUM = r"(\d+(?:\.\d+)?)"
_DURATION_RE = re.compile(rf"^\s*(?:{_NUM}h)?\s*(?:{_NUM}m)?\s*(?:{_NUM}s)?\s*$")


class RuleSetError(ValueError):
    """A rule file or override is invalid. ``str()`` says where and why."""

    def __init__(self, file: str, rule_id: str | None, field: str | None, reason: str) -> None:
        self.file, self.rule_id, self.field, self.reason = file, rule_id, field, reason
        where = file
        if rule_id:
            where += f": rule {rule_id!r}"
        if field:
            where += f": field {field!r}"
        super().__init__(f"{where}: {reason}")


def parse_duration(value: object) -> float:
    """``"15m"``, ``"1h30m"``, ``"30s"`` or a number of seconds → seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration like '15m' or seconds")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("duration must not be negative")
        return float(value)
    if isinstance(value, str):
        m = _DURATION_RE.match(value)
        if m and any(m.groups()):
            h, mi, s = (float(g) if g else 0.0 for g in m.groups())
            return h * 3600 + mi * 60 + s
    raise ValueError(f"expected a duration like '15m', '48h' or seconds, got {value!r}")


def format_duration(seconds: float) -> str:
    s = round(seconds)
    if s % 3600 == 0 and s >= 3600:
        return f"{s // 3600} h"
    if s % 60 == 0 and s >= 60:
        return f"{s // 60} min"
    return f"{s} s"


# --------------------------------------------------------------------------- normalisation


def normalise_table(table: Mapping[str, Any], *, file: str, rule_id: str) -> dict[str, Any]:
    """Copy ``table`` with every threshold converted to canonical units.

    ``unit`` becomes ``display_unit`` (the unit people wrote, used in explanations).
    """
    out: dict[str, Any] = {k: v for k, v in table.items() if k != "unit"}
    unit = table.get("unit")
    has_values = any(k in _THRESHOLD_KEYS for t in _tiers_of(table) for k in t)
    if unit is None:
        if has_values and table.get("observable", "") == "glucose":
            raise RuleSetError(file, rule_id, "unit", "glucose thresholds need an explicit unit")
        return out
    if not isinstance(unit, str):
        raise RuleSetError(file, rule_id, "unit", "must be a string")
    out["display_unit"] = unit
    if unit in (GlucoseUnit.MG_DL.value, GlucoseUnit.MMOL_L.value):
        g = GlucoseUnit(unit)
        tiers = table.get("tier")
        if isinstance(tiers, Mapping):
            out["tier"] = {
                name: {
                    k: (to_mgdl(v, g) if k in _THRESHOLD_KEYS and _is_num(v) else v)
                    for k, v in t.items()
                }
                if isinstance(t, Mapping)
                else t
                for name, t in tiers.items()
            }
    elif unit not in set(OBSERVABLES.values()):
        raise RuleSetError(file, rule_id, "unit", f"unknown unit {unit!r}")
    return out


def _tiers_of(table: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    tiers = table.get("tier")
    if isinstance(tiers, Mapping):
        return [t for t in tiers.values() if isinstance(t, Mapping)]
    return []


def _is_num(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def deep_merge(base: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in patch.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = v
    return out


# --------------------------------------------------------------------------- compilation


class Fields:
    """Typed access to one table that remembers which keys were used."""

    def __init__(self, table: Mapping[str, Any], file: str, rule_id: str, prefix: str = ""):
        self.t, self.file, self.rule_id, self.prefix = table, file, rule_id, prefix
        self.used: set[str] = set()

    def err(self, key: str, reason: str) -> RuleSetError:
        return RuleSetError(self.file, self.rule_id, self.prefix + key, reason)

    def raw(self, key: str) -> Any:
        self.used.add(key)
        return self.t.get(key)

    def str_(self, key: str, default: str | None = None) -> str:
        v = self.raw(key)
        if v is None and default is not None:
            return default
        if not isinstance(v, str) or not v.strip():
            raise self.err(key, "required non-empty string")
        return v

    def num(self, key: str, default: float | None = None, *, minimum: float | None = None) -> float:
        v = self.raw(key)
        if v is None and default is not None:
            return default
        if not _is_num(v):
            raise self.err(key, "required number")
        if minimum is not None and v < minimum:
            raise self.err(key, f"must be >= {minimum:g}")
        return float(v)

    def int_(self, key: str, default: int) -> int:
        v = self.raw(key)
        if v is None:
            return default
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise self.err(key, "must be a whole number >= 1")
        return v

    def bool_(self, key: str, default: bool) -> bool:
        v = self.raw(key)
        if v is None:
            return default
        if not isinstance(v, bool):
            raise self.err(key, "must be true or false")
        return v

    def dur(self, key: str, default: float | None) -> float | None:
        v = self.raw(key)
        if v is None:
            return default
        try:
            return parse_duration(v)
        except ValueError as exc:
            raise self.err(key, str(exc)) from None

    def dur_req(self, key: str, default: float) -> float:
        d = self.dur(key, default)
        assert d is not None
        return d

    def quiet(self, default: QuietHoursPolicy) -> QuietHoursPolicy:
        v = self.raw("quiet_hours")
        if v is None:
            return default
        try:
            return QuietHoursPolicy(v)
        except ValueError:
            raise self.err("quiet_hours", "must be 'hold' or 'bypass'") from None

    def finish(self) -> None:
        extra = sorted(set(self.t) - self.used)
        if extra:
            raise self.err(extra[0], "unknown field")


def _severity(name: str, f: Fields) -> Severity:
    try:
        return Severity[name.upper()]
    except KeyError:
        raise f.err(f"tier.{name}", "tier must be info, warning or urgent") from None


def _default_quiet(sev: Severity) -> QuietHoursPolicy:
    return QuietHoursPolicy.BYPASS if sev is Severity.URGENT else QuietHoursPolicy.HOLD


def _snooze(f: Fields, sev: Severity) -> float:
    cap = URGENT_SNOOZE_CAP_S if sev is Severity.URGENT else 3600.0
    s = f.dur_req("max_snooze", cap)
    if sev is Severity.URGENT and s > URGENT_SNOOZE_CAP_S:
        raise f.err("max_snooze", "urgent tiers may be snoozed for at most 15 min")
    return s


def _compile_tier(name: str, t: Any, f: Fields, observable: str) -> Tier:
    if not isinstance(t, Mapping):
        raise f.err(f"tier.{name}", "must be a table")
    sev = _severity(name, f)
    tf = Fields(t, f.file, f.rule_id, f"tier.{name}.")
    ops = [op for op in Op if tf.raw(op.value) is not None]
    if len(ops) != 1:
        raise tf.err("lt", "give exactly one of lt, le, gt, ge")
    op = ops[0]
    limit = tf.num(op.value)
    clear = tf.num("clear", limit)
    bad_clear = clear < limit if op.direction is Direction.BELOW else clear > limit
    if bad_clear:
        raise tf.err("clear", "clear limit must be on the safe side of the raise limit")
    tier = Tier(
        severity=sev,
        op=op,
        limit=limit,
        clear=clear,
        for_readings=tf.int_("for_readings", 1),
        for_s=tf.dur_req("for", 0.0),
        clear_readings=tf.int_("clear_readings", 1),
        clear_for_s=tf.dur_req("clear_for", 0.0),
        max_snooze_s=_snooze(tf, sev),
        quiet_hours=tf.quiet(_default_quiet(sev)),
        repeat_s=tf.dur("repeat", None),
    )
    tf.finish()
    return tier


def _common(f: Fields) -> dict[str, Any]:
    return {
        "id": f.rule_id,
        "title": f.str_("title"),
        "source": f.str_("source"),
        "note": f.raw("note") or "",
        "enabled": f.bool_("enabled", True),
    }


def compile_rule(table: Mapping[str, Any], *, file: str) -> Rule:
    """Validate one canonical-unit rule table and build the rule it describes."""
    rule_id = table.get("id")
    if not isinstance(rule_id, str) or not _ID_RE.match(rule_id):
        raise RuleSetError(file, None, "id",
                           f"rule id must match {_ID_RE.pattern}, got {rule_id!r}")
    f = Fields(table, file, rule_id)
    f.used.update({"id", "display_unit"})
    kind = f.str_("type")
    common = _common(f)
    if not isinstance(common["note"], str):
        raise f.err("note", "must be a string")
    rule: Rule
    if kind == "threshold":
        observable = f.str_("observable")
        if observable not in OBSERVABLES:
            raise f.err("observable", f"unknown observable; one of {sorted(OBSERVABLES)}")
        tiers_raw = f.raw("tier")
        if not isinstance(tiers_raw, Mapping) or not tiers_raw:
            raise f.err("tier", "a threshold rule needs at least one tier")
        tiers = sorted(
            (_compile_tier(n, t, f, observable) for n, t in tiers_raw.items()),
            key=lambda t: t.severity,
        )
        directions = {t.op.direction for t in tiers}
        if len(directions) != 1:
            raise f.err("tier", "all tiers must test the same direction (all below or all above)")
        direction = directions.pop()
        for lo, hi in pairwise(tiers):
            worse = hi.limit <= lo.limit if direction is Direction.BELOW else hi.limit >= lo.limit
            if not worse:
                raise f.err(f"tier.{hi.severity.label}",
                            "a more severe tier needs a more extreme limit")
        kinds = f.raw("kinds") or []
        if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
            raise f.err("kinds", "must be a list of reading kinds")
        rule = ThresholdRule(
            **common,
            observable=observable,
            unit=str(table.get("display_unit") or OBSERVABLES[observable]),
            direction=direction,
            tiers=tuple(tiers),
            kinds=tuple(kinds),
            max_gap_s=f.dur("max_gap", None),
        )
    elif kind == "bp_confirm":
        sev_name = f.str_("severity", "urgent")
        if sev_name not in ("info", "warning", "urgent"):
            raise f.err("severity", "must be info, warning or urgent")
        sev = Severity[sev_name.upper()]
        rule = BpConfirmRule(
            **common,
            severity=sev,
            systolic_ge=f.num("systolic_ge", minimum=1),
            diastolic_ge=f.num("diastolic_ge", minimum=1),
            confirm_min_s=f.dur_req("confirm_min", 60.0),
            confirm_max_s=f.dur_req("confirm_max", 300.0),
            pending_info=f.bool_("pending_info", True),
            clear_systolic_lt=f.num("clear_systolic_lt", 160.0, minimum=1),
            clear_diastolic_lt=f.num("clear_diastolic_lt", 100.0, minimum=1),
            clear_readings=f.int_("clear_readings", 2),
            max_snooze_s=_snooze(f, sev),
            quiet_hours=f.quiet(_default_quiet(sev)),
        )
        if rule.confirm_min_s >= rule.confirm_max_s:
            raise f.err("confirm_max", "must be later than confirm_min")
        if rule.clear_systolic_lt > rule.systolic_ge or rule.clear_diastolic_lt > rule.diastolic_ge:
            raise f.err("clear_systolic_lt", "clear limits must be below the raise limits")
    elif kind == "stale":
        stream = f.str_("stream")
        if stream not in STREAMS:
            raise f.err("stream", f"unknown stream; one of {list(STREAMS)}")
        tiers_raw = f.raw("tier")
        if not isinstance(tiers_raw, Mapping) or not tiers_raw:
            raise f.err("tier", "a stale rule needs at least one tier")
        stale_tiers: list[StaleTier] = []
        for name, t in tiers_raw.items():
            sev = _severity(name, f)
            if not isinstance(t, Mapping):
                raise f.err(f"tier.{name}", "must be a table")
            tf = Fields(t, file, rule_id, f"tier.{name}.")
            after = tf.dur("after", None)
            if after is None or after <= 0:
                raise tf.err("after", "required positive duration")
            stale_tiers.append(
                StaleTier(sev, after, _snooze(tf, sev), tf.quiet(_default_quiet(sev)),
                          tf.dur("repeat", None))
            )
            tf.finish()
        stale_tiers.sort(key=lambda t: t.severity)
        for s_lo, s_hi in pairwise(stale_tiers):
            if s_hi.after_s <= s_lo.after_s:
                raise f.err(f"tier.{s_hi.severity.label}", "a more severe tier needs a longer gap")
        rule = StaleRule(**common, stream=stream, tiers=tuple(stale_tiers))
    else:
        raise f.err("type", "must be threshold, bp_confirm or stale")
    f.finish()
    return rule


