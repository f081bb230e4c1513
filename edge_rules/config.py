"""The rules part of a gateway's configuration, validated in one place.

Shape (e.g. the ``rules`` member of a ``vitals.wire.ConfigMessage`` body, or a TOML file)::

    {"profile": "aha",
     "patients": {"p-0007": {"timezone": "Asia/Shanghai",
                             "quiet_hours": [{"start": "22:00", "end": "07:00"}],
                             "clinician": {"version": "7", "rules": {...}},
                             "family": {"version": "2", "rules": {...}}}}}

Everything is checked up front (every patient's merged rule set is built), so a bad override is
refused when the configuration arrives instead of surfacing at alert time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from edge_rules.overrides import OverrideError, PatientContext, effective_ruleset
from edge_rules.ruleset import RuleSet, RuleSetError, load_ruleset


@dataclass(frozen=True)
class RulesConfig:
    ruleset: RuleSet
    patients: Mapping[str, PatientContext]


def parse_rules_config(body: Mapping[str, Any], *, base: RuleSet | None = None) -> RulesConfig:
    """Validate ``body``; raise :class:`RuleSetError` (or a subclass) naming what is wrong."""
    extra = set(body) - {"profile", "patients"}
    if extra:
        raise RuleSetError("rules config", None, sorted(extra)[0], "unknown field")
    ruleset = base if base is not None else load_ruleset()
    profile = body.get("profile")
    if profile is not None:
        if not isinstance(profile, str):
            raise RuleSetError("rules config", None, "profile", "must be a profile name")
        ruleset = ruleset.with_profile(profile)
    patients_raw = body.get("patients", {})
    if not isinstance(patients_raw, Mapping):
        raise RuleSetError("rules config", None, "patients", "must map patient → context")
    patients: dict[str, PatientContext] = {}
    for patient, raw in patients_raw.items():
        if not isinstance(raw, Mapping):
            raise RuleSetError(f"patients.{patient}", None, None, "must be a table")
        try:
            ctx = PatientContext.from_mapping(raw)
            effective_ruleset(ruleset, ctx)
        except OverrideError as exc:
            raise type(exc)(f"patients.{patient}: {exc.file}", exc.rule_id, exc.field,
                            exc.reason) from None
        patients[str(patient)] = ctx
    return RulesConfig(ruleset, patients)
