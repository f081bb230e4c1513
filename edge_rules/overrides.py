"""Per-patient context and rule overrides.

Order of precedence: rule-set defaults → site profile → **clinician** override → **family**
override. The clinician may change any tunable field (thresholds, persistence, clear limits,
snooze caps within the urgent cap, enabling/disabling). A family override may only make a rule
*more* sensitive — raise earlier, stay open longer, be snoozed for less, never be disabled or
held by quiet hours — anything else is rejected with :class:`FamilyOverrideError` naming the
rule and field. Override shape (TOML or JSON)::

    {"version": "7", "rules": {"heart_rate_low": {"tier": {"warning": {"lt": 45}}},
                               "glucose_low": {"unit": "mmol/L", "tier": {"warning": {"lt": 4.2}}}}}
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from edge_rules.model import BpConfirmRule, Direction, Rule, StaleRule, ThresholdRule
from edge_rules.ruleset import RuleSet, RuleSetError, apply_patch
from edge_rules.schedule import QuietWindow, zone


class OverrideError(RuleSetError):
    """An override is malformed or not allowed."""


class FamilyOverrideError(OverrideError):
    """A family override tried to make a rule less sensitive (or touch a locked field)."""


@dataclass(frozen=True, slots=True)
class Overrides:
    """A validated-shape override: ``version`` plus the JSON of its ``rules`` patch."""

    version: str
    rules_json: str

    @classmethod
    def parse(cls, raw: Mapping[str, Any], *, origin: str = "clinician") -> Overrides:
        extra = set(raw) - {"version", "rules"}
        if extra:
            raise OverrideError(origin, None, sorted(extra)[0], "unknown field")
        version = raw.get("version", "0")
        if not isinstance(version, str | int) or isinstance(version, bool):
            raise OverrideError(origin, None, "version", "must be a string or integer")
        rules = raw.get("rules", {})
        if not isinstance(rules, Mapping):
            raise OverrideError(origin, None, "rules", "must be a table of rule id → fields")
        return cls(str(version), json.dumps(rules, sort_keys=True))

    @property
    def rules(self) -> dict[str, Any]:
        out: dict[str, Any] = json.loads(self.rules_json)
        return out


@dataclass(frozen=True, slots=True)
class PatientContext:
    """What the engine needs to know about one patient beyond readings."""

    timezone: str = "UTC"
    quiet_hours: tuple[QuietWindow, ...] = ()
    clinician: Overrides | None = None
    family: Overrides | None = None

    def __post_init__(self) -> None:
        zone(self.timezone)  # fail early on a bad name

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> PatientContext:
        """``{"timezone": "Asia/Shanghai", "quiet_hours": [{"start": "22:00", "end": "07:00"}],
        "clinician": {...}, "family": {...}}``"""
        extra = set(raw) - {"timezone", "quiet_hours", "clinician", "family"}
        if extra:
            raise OverrideError("patient context", None, sorted(extra)[0], "unknown field")
        try:
            windows = tuple(
                QuietWindow.parse(str(w["start"]), str(w["end"]))
                for w in raw.get("quiet_hours", [])
            )
            ctx = cls(
                timezone=str(raw.get("timezone", "UTC")),
                quiet_hours=windows,
                clinician=Overrides.parse(raw["clinician"], origin="clinician")
                if "clinician" in raw else None,
                family=Overrides.parse(raw["family"], origin="family") if "family" in raw else None,
            )
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, OverrideError):
                raise
            raise OverrideError("patient context", None, None, str(exc)) from None
        return ctx


def rule_version(ruleset: RuleSet, ctx: PatientContext | None) -> str:
    """``<ruleset version>[+profile][+c<clinician v>][+f<family v>]``, at most 32 chars."""
    v = ruleset.rule_version
    if ctx is not None and ctx.clinician is not None:
        v += f"+c{ctx.clinician.version}"
    if ctx is not None and ctx.family is not None:
        v += f"+f{ctx.family.version}"
    if len(v) > 32:
        digest = hashlib.sha256(v.encode()).hexdigest()[:8]
        v = f"{ruleset.version[:20]}+{digest}"
    return v


@lru_cache(maxsize=256)
def effective_ruleset(ruleset: RuleSet, ctx: PatientContext | None) -> RuleSet:
    """Defaults merged with the patient's clinician then family overrides (cached)."""
    if ctx is None:
        return ruleset
    rs = ruleset
    if ctx.clinician is not None:
        rs = _apply(rs, ctx.clinician, "clinician override", OverrideError)
    if ctx.family is not None:
        family = _apply(rs, ctx.family, "family override", FamilyOverrideError)
        for rule_id in ctx.family.rules:
            check_more_sensitive(rs.rule(rule_id), family.rule(rule_id))
        rs = family
    return rs


def _apply(rs: RuleSet, ov: Overrides, origin: str, err: type[OverrideError]) -> RuleSet:
    try:
        return apply_patch(rs, {"rules": ov.rules}, file=origin)
    except RuleSetError as exc:
        raise err(exc.file, exc.rule_id, exc.field, exc.reason) from None


_CLINICIAN_ONLY = "only the clinician may change this, not a family"


def _fam(rule_id: str, fld: str, reason: str) -> FamilyOverrideError:
    return FamilyOverrideError("family override", rule_id, fld, reason)


def _not_longer(rid: str, fld: str, base: float | None, new: float | None) -> None:
    if base is None:
        return
    if new is None or new > base:
        raise _fam(rid, fld, "a family may only shorten this (make the rule more sensitive)")


def _not_shorter(rid: str, fld: str, base: float | None, new: float | None) -> None:
    if base is not None and (new is None or new < base):
        raise _fam(rid, fld, "a family may only lengthen this (make the rule more sensitive)")


def check_more_sensitive(base: Rule, new: Rule) -> None:
    """Raise :class:`FamilyOverrideError` unless ``new`` alerts at least whenever ``base`` does."""
    rid = base.id
    if base.enabled and not new.enabled:
        raise _fam(rid, "enabled", "a family may not disable a rule")
    for text in ("title", "source", "note"):
        if getattr(base, text) != getattr(new, text):
            raise _fam(rid, text, _CLINICIAN_ONLY)
    if isinstance(base, ThresholdRule) and isinstance(new, ThresholdRule):
        if base.max_gap_s != new.max_gap_s:
            raise _fam(rid, "max_gap", _CLINICIAN_ONLY)
        for bt in base.tiers:
            nt = new.tier(bt.severity)
            assert nt is not None
            f = f"tier.{bt.severity.label}."
            below = base.direction is Direction.BELOW
            earlier = nt.limit >= bt.limit if below else nt.limit <= bt.limit
            if not earlier or (nt.limit == bt.limit and nt.op != bt.op and not _inclusive(nt.op)):
                raise _fam(rid, f + nt.op.value, "a family may only move the limit towards normal "
                           "(raise the alert earlier), not further away")
            later_clear = nt.clear >= bt.clear if below else nt.clear <= bt.clear
            if not later_clear:
                raise _fam(rid, f + "clear", "a family may not make the alert clear sooner")
            _not_longer(rid, f + "for_readings", bt.for_readings, nt.for_readings)
            _not_longer(rid, f + "for", bt.for_s, nt.for_s)
            _not_shorter(rid, f + "clear_readings", bt.clear_readings, nt.clear_readings)
            _not_shorter(rid, f + "clear_for", bt.clear_for_s, nt.clear_for_s)
            _not_longer(rid, f + "max_snooze", bt.max_snooze_s, nt.max_snooze_s)
            _not_longer(rid, f + "repeat", bt.repeat_s, nt.repeat_s)
            if bt.quiet_hours.value == "bypass" and nt.quiet_hours.value != "bypass":
                raise _fam(rid, f + "quiet_hours", "a family may not hold this tier in quiet hours")
    elif isinstance(base, BpConfirmRule) and isinstance(new, BpConfirmRule):
        _not_longer(rid, "systolic_ge", base.systolic_ge, new.systolic_ge)
        _not_longer(rid, "diastolic_ge", base.diastolic_ge, new.diastolic_ge)
        for fld in ("confirm_min_s", "confirm_max_s", "clear_readings"):
            if getattr(base, fld) != getattr(new, fld):
                raise _fam(rid, fld.removesuffix("_s"), _CLINICIAN_ONLY)
        _not_shorter(rid, "clear_systolic_lt", -base.clear_systolic_lt, -new.clear_systolic_lt)
        _not_shorter(rid, "clear_diastolic_lt", -base.clear_diastolic_lt, -new.clear_diastolic_lt)
        _not_longer(rid, "max_snooze", base.max_snooze_s, new.max_snooze_s)
        if base.pending_info and not new.pending_info:
            raise _fam(rid, "pending_info", "a family may not turn this off")
        if base.quiet_hours.value == "bypass" and new.quiet_hours.value != "bypass":
            raise _fam(rid, "quiet_hours", "a family may not hold this rule in quiet hours")
    elif isinstance(base, StaleRule) and isinstance(new, StaleRule):
        for st, sn in zip(base.tiers, new.tiers, strict=True):
            f = f"tier.{st.severity.label}."
            _not_longer(rid, f + "after", st.after_s, sn.after_s)
            _not_longer(rid, f + "max_snooze", st.max_snooze_s, sn.max_snooze_s)
            _not_longer(rid, f + "repeat", st.repeat_s, sn.repeat_s)
            if st.quiet_hours.value == "bypass" and sn.quiet_hours.value != "bypass":
                raise _fam(rid, f + "quiet_hours", "a family may not hold this tier in quiet hours")


def _inclusive(op: object) -> bool:
    return getattr(op, "value", "") in ("le", "ge")
