"""Rule sets: TOML loading, versioning, site profiles and patching (overrides).

A rule file holds ``[[rule]]`` tables (tiers as ``[rule.tier.warning]`` sub-tables, keyed by
severity so that overrides merge by name), at most one ``[ruleset]`` header (id, version) and
named site ``[profile.NAME]`` patches. Every number in a table is in the unit that table
declares (``unit = "mmol/L"``); it is converted to the canonical unit at load, so a clinician
override in mmol/L merges cleanly over a default in mg/dL. Every error names the file, the
rule id, the field and the reason (:class:`RuleSetError`).
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from edge_rules.model import BpConfirmRule, Op, Rule, ThresholdRule
from edge_rules.tables import (
    OBSERVABLES,
    STREAMS,
    Fields,
    RuleSetError,
    compile_rule,
    deep_merge,
    format_duration,
    normalise_table,
    parse_duration,
)

__all__ = [
    "OBSERVABLES",
    "STREAMS",
    "RuleSet",
    "RuleSetError",
    "apply_patch",
    "build_ruleset",
    "format_duration",
    "load_ruleset",
    "loads_ruleset",
    "parse_duration",
]


# --------------------------------------------------------------------------- rule sets


@dataclass(frozen=True)
class RuleSet:
    """A validated, versioned set of rules (optionally with a site profile applied)."""

    id: str
    version: str
    rules: tuple[Rule, ...]
    #: (rule id, canonical JSON of its normalised table): the base overrides merge onto.
    tables: tuple[tuple[str, str], ...]
    #: (profile name, JSON of its patch)
    profiles: tuple[tuple[str, str], ...] = ()
    profile: str | None = None
    #: Readings older than this (vs ``now``) are history (device-memory backfill): no paging.
    max_reading_age_s: float = 3600.0
    _by_id: dict[str, Rule] = field(default_factory=dict, compare=False, hash=False, repr=False)
    _by_observable: dict[str, tuple[ThresholdRule, ...]] = field(
        default_factory=dict, compare=False, hash=False, repr=False)
    _hash: int = field(default=0, compare=False, hash=False, repr=False)

    def __post_init__(self) -> None:
        self._by_id.update({r.id: r for r in self.rules})
        for r in self.rules:
            if isinstance(r, ThresholdRule):
                self._by_observable[r.observable] = (*self._by_observable.get(r.observable, ()), r)

    def __hash__(self) -> int:
        # cached: the engine looks the effective rule set up per reading (lru_cache key)
        h = self._hash
        if not h:
            h = hash((self.id, self.version, self.rules, self.tables, self.profiles, self.profile,
                      self.max_reading_age_s))
            object.__setattr__(self, "_hash", h)
        return h

    def threshold_rules(self, observable: str) -> tuple[ThresholdRule, ...]:
        """Threshold rules testing ``observable``, in rule-set order (O(1) lookup)."""
        return self._by_observable.get(observable, ())

    def bp_rules(self) -> tuple[BpConfirmRule, ...]:
        return tuple(r for r in self.rules if isinstance(r, BpConfirmRule))

    def rule(self, rule_id: str) -> Rule:
        try:
            return self._by_id[rule_id]
        except KeyError:
            raise KeyError(f"no rule {rule_id!r} in rule set {self.id} {self.version}") from None

    def has_rule(self, rule_id: str) -> bool:
        return rule_id in self._by_id

    def table(self, rule_id: str) -> dict[str, Any]:
        for rid, js in self.tables:
            if rid == rule_id:
                loaded: dict[str, Any] = json.loads(js)
                return loaded
        raise KeyError(rule_id)

    @property
    def rule_version(self) -> str:
        return self.version if self.profile is None else f"{self.version}+{self.profile}"

    def with_profile(self, name: str) -> RuleSet:
        patch = dict(self.profiles).get(name)
        if patch is None:
            raise RuleSetError("<profiles>", None, "profile",
                               f"unknown profile {name!r}; have {[n for n, _ in self.profiles]}")
        merged = apply_patch(self, json.loads(patch), file=f"profile {name}")
        return RuleSet(merged.id, merged.version, merged.rules, merged.tables, self.profiles,
                       name, self.max_reading_age_s)


def apply_patch(rs: RuleSet, patch: Mapping[str, Any], *, file: str) -> RuleSet:
    """Merge ``{"rules": {rule_id: partial table}}`` over ``rs`` and re-validate."""
    rules_patch = patch.get("rules", {})
    if not isinstance(rules_patch, Mapping):
        raise RuleSetError(file, None, "rules", "must be a table of rule id → fields")
    tables = dict(rs.tables)
    for rule_id, part in rules_patch.items():
        if rule_id not in tables:
            raise RuleSetError(file, str(rule_id), None, "no such rule in the rule set")
        if not isinstance(part, Mapping):
            raise RuleSetError(file, str(rule_id), None, "must be a table")
        for locked in ("id", "type", "observable", "stream"):
            if locked in part:
                raise RuleSetError(file, str(rule_id), locked, "cannot be changed by an override")
        base = json.loads(tables[rule_id])
        norm = normalise_table({**part, "observable": base.get("observable", "")},
                               file=file, rule_id=str(rule_id))
        norm.pop("observable")
        tiers = norm.get("tier", {})
        if isinstance(tiers, Mapping):
            for name, tier in tiers.items():
                if name not in base.get("tier", {}):
                    raise RuleSetError(file, str(rule_id), f"tier.{name}",
                                       "overrides may change tiers, not add new ones")
                if isinstance(tier, Mapping) and any(op.value in tier for op in Op):
                    # a new comparison replaces the old one (lt 70 → le 72), not adds to it
                    for op in Op:
                        base["tier"][name].pop(op.value, None)
        tables[rule_id] = json.dumps(deep_merge(base, norm), sort_keys=True)
    rules = tuple(compile_rule(json.loads(tables[r.id]), file=file) for r in rs.rules)
    return RuleSet(rs.id, rs.version, rules, tuple((r.id, tables[r.id]) for r in rs.rules),
                   rs.profiles, rs.profile, rs.max_reading_age_s)


def build_ruleset(docs: Iterable[tuple[str, Mapping[str, Any]]], *,
                  profile: str | None = None) -> RuleSet:
    """Build a rule set from parsed TOML documents ``(file name, content)``."""
    header: tuple[str, Mapping[str, Any]] | None = None
    rules: list[Rule] = []
    tables: list[tuple[str, str]] = []
    profiles: dict[str, str] = {}
    for file, doc in docs:
        for key in doc:
            if key not in ("ruleset", "rule", "profile"):
                raise RuleSetError(file, None, key, "unknown top-level table")
        if "ruleset" in doc:
            if header is not None:
                raise RuleSetError(file, None, "ruleset",
                                   f"second [ruleset] (first in {header[0]})")
            header = (file, doc["ruleset"])
        for table in doc.get("rule", []):
            if not isinstance(table, Mapping):
                raise RuleSetError(file, None, "rule", "each [[rule]] must be a table")
            rid = str(table.get("id"))
            norm = normalise_table(table, file=file, rule_id=rid)
            rule = compile_rule(norm, file=file)
            if any(r.id == rule.id for r in rules):
                raise RuleSetError(file, rule.id, "id", "duplicate rule id")
            rules.append(rule)
            tables.append((rule.id, json.dumps(norm, sort_keys=True)))
        for name, patch in doc.get("profile", {}).items():
            if not isinstance(patch, Mapping):
                raise RuleSetError(file, None, f"profile.{name}", "must be a table")
            profiles[name] = json.dumps(patch, sort_keys=True)
    if header is None:
        raise RuleSetError("<rule set>", None, "ruleset", "no [ruleset] header (id, version)")
    hf = Fields(header[1], header[0], "", "ruleset.")
    rs_id, version = hf.str_("id"), hf.str_("version")
    if len(version) > 20:
        raise hf.err("version", "at most 20 characters")
    max_age = hf.dur_req("max_reading_age", 3600.0)
    hf.raw("description")
    hf.finish()
    rs = RuleSet(rs_id, version, tuple(rules), tuple(tables), tuple(sorted(profiles.items())),
                 None, max_age)
    for name in profiles:  # every profile must compile, whether selected or not
        rs.with_profile(name)
    return rs.with_profile(profile) if profile else rs


def _read_toml(path: Path) -> Mapping[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise RuleSetError(path.name, None, None, f"invalid TOML: {exc}") from None


def load_ruleset(path: str | Path | None = None, *, profile: str | None = None) -> RuleSet:
    """Load a rule file or a directory of ``*.toml`` (default: the shipped defaults)."""
    if path is None:
        root = resources.files("edge_rules") / "defaults"
        docs = [
            (entry.name, tomllib.loads(entry.read_text(encoding="utf-8")))
            for entry in sorted(root.iterdir(), key=lambda e: e.name)
            if entry.name.endswith(".toml")
        ]
        return build_ruleset(docs, profile=profile)
    p = Path(path)
    files = sorted(p.glob("*.toml")) if p.is_dir() else [p]
    return build_ruleset([(f.name, _read_toml(f)) for f in files], profile=profile)


def loads_ruleset(text: str, *, file: str = "<string>", profile: str | None = None) -> RuleSet:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleSetError(file, None, None, f"invalid TOML: {exc}") from None
    return build_ruleset([(file, doc)], profile=profile)
