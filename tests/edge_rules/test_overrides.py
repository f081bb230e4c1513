"""Per-patient overrides: clinician merge, family only-more-sensitive, rule versions."""

from __future__ import annotations

from typing import Any

import pytest

from edge_rules.model import BpConfirmRule, StaleRule, ThresholdRule
from edge_rules.overrides import (
    FamilyOverrideError,
    OverrideError,
    Overrides,
    PatientContext,
    effective_ruleset,
    rule_version,
)
from tests.edge_rules.rules_helpers import DEFAULTS


def ctx(
    clinician: dict[str, Any] | None = None, family: dict[str, Any] | None = None
) -> PatientContext:
    raw: dict[str, Any] = {"timezone": "Asia/Shanghai"}
    if clinician is not None:
        raw["clinician"] = clinician
    if family is not None:
        raw["family"] = family
    return PatientContext.from_mapping(raw)


def threshold(c: PatientContext, rule_id: str) -> ThresholdRule:
    rule = effective_ruleset(DEFAULTS, c).rule(rule_id)
    assert isinstance(rule, ThresholdRule)
    return rule


def test_clinician_override_merges_over_defaults() -> None:
    c = ctx(
        {
            "version": "3",
            "rules": {"heart_rate_low": {"tier": {"warning": {"lt": 45}}, "note": "athlete"}},
        }
    )
    rule = threshold(c, "heart_rate_low")
    assert rule.tiers[0].limit == 45 and rule.tiers[0].for_s == 300  # rest kept
    assert rule.tiers[1].limit == 40 and rule.note == "athlete"
    assert effective_ruleset(DEFAULTS, None) == DEFAULTS  # cached: equal, maybe not identical


def test_clinician_override_in_mmol_over_mg_dl_default() -> None:
    c = ctx(
        {
            "rules": {
                "glucose_low": {"unit": "mmol/L", "tier": {"warning": {"lt": 4.2, "clear": 5.0}}}
            }
        }
    )
    rule = threshold(c, "glucose_low")
    assert rule.tiers[0].limit == pytest.approx(75.7, abs=0.1)
    assert rule.tiers[1].limit == 54  # untouched tier keeps its mg/dL value


def test_clinician_may_relax_and_disable_but_not_break_validation() -> None:
    c = ctx(
        {
            "rules": {
                "heart_rate_high": {"enabled": False},
                "glucose_low": {"unit": "mg/dL", "tier": {"warning": {"lt": 65}}},
            }
        }
    )
    assert not effective_ruleset(DEFAULTS, c).rule("heart_rate_high").enabled
    with pytest.raises(OverrideError) as info:
        effective_ruleset(
            DEFAULTS,
            ctx(
                {
                    "rules": {
                        "glucose_low": {"unit": "mg/dL", "tier": {"urgent": {"max_snooze": "1h"}}}
                    }
                }
            ),
        )
    assert (info.value.file, info.value.rule_id, info.value.field) == (
        "clinician override",
        "glucose_low",
        "tier.urgent.max_snooze",
    )


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"no_such_rule": {"enabled": False}}, None),
        ({"glucose_low": {"type": "stale"}}, "type"),
        ({"glucose_low": {"unit": "mg/dL", "tier": {"info": {"lt": 90}}}}, "tier.info"),
        ({"glucose_low": {"unit": "mg/dL", "tier": {"warning": {"lt": "low"}}}}, "tier.warning.lt"),
    ],
)
def test_bad_clinician_overrides(patch: dict[str, Any], field: str | None) -> None:
    with pytest.raises(OverrideError) as info:
        effective_ruleset(DEFAULTS, ctx({"rules": patch}))
    assert info.value.field == field


def test_an_operator_change_replaces_the_old_comparison() -> None:
    rule = threshold(
        ctx({"rules": {"glucose_low": {"unit": "mg/dL", "tier": {"warning": {"le": 72}}}}}),
        "glucose_low",
    )
    assert rule.tiers[0].op.value == "le" and rule.tiers[0].limit == 72


def test_family_may_make_rules_more_sensitive() -> None:
    fam = {
        "version": "1",
        "rules": {
            "glucose_low": {
                "unit": "mg/dL",
                "tier": {"warning": {"lt": 75, "clear": 90, "max_snooze": "20m"}},
            },
            "heart_rate_high": {"tier": {"warning": {"gt": 95, "for": "2m", "clear": 90}}},
            "bp_severe": {"systolic_ge": 170},
            "stale_cgm": {"tier": {"warning": {"after": "10m"}}},
        },
    }
    rs = effective_ruleset(DEFAULTS, ctx(family=fam))
    low = rs.rule("glucose_low")
    assert isinstance(low, ThresholdRule) and low.tiers[0].limit == 75
    bp = rs.rule("bp_severe")
    assert isinstance(bp, BpConfirmRule) and bp.systolic_ge == 170
    stale = rs.rule("stale_cgm")
    assert isinstance(stale, StaleRule) and stale.tiers[0].after_s == 600


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"glucose_low": {"unit": "mg/dL", "tier": {"warning": {"lt": 60}}}}, "tier.warning.lt"),
        ({"glucose_low": {"enabled": False}}, "enabled"),
        (
            {"glucose_low": {"unit": "mg/dL", "tier": {"warning": {"clear": 75}}}},
            "tier.warning.clear",
        ),
        (
            {"glucose_low": {"unit": "mg/dL", "tier": {"warning": {"clear_for": "5m"}}}},
            "tier.warning.clear_for",
        ),
        (
            {"glucose_low": {"unit": "mg/dL", "tier": {"warning": {"max_snooze": "2h"}}}},
            "tier.warning.max_snooze",
        ),
        (
            {"glucose_low": {"unit": "mg/dL", "tier": {"urgent": {"quiet_hours": "hold"}}}},
            "tier.urgent.quiet_hours",
        ),
        ({"glucose_low": {"source": "my aunt"}}, "source"),
        ({"heart_rate_high": {"tier": {"warning": {"gt": 110}}}}, "tier.warning.gt"),
        ({"heart_rate_high": {"tier": {"warning": {"for": "10m"}}}}, "tier.warning.for"),
        ({"heart_rate_high": {"max_gap": "5m"}}, "max_gap"),
        (
            {"glucose_high": {"unit": "mg/dL", "tier": {"warning": {"repeat": "3h"}}}},
            "tier.warning.repeat",
        ),
        ({"bp_severe": {"diastolic_ge": 120}}, "diastolic_ge"),
        ({"bp_severe": {"confirm_max": "10m"}}, "confirm_max"),
        ({"bp_severe": {"pending_info": False}}, "pending_info"),
        ({"stale_cgm": {"tier": {"urgent": {"after": "1h"}}}}, "tier.urgent.after"),
    ],
)
def test_family_may_not_make_rules_less_sensitive(patch: dict[str, Any], field: str) -> None:
    with pytest.raises(FamilyOverrideError) as info:
        effective_ruleset(DEFAULTS, ctx(family={"rules": patch}))
    assert info.value.field == field and info.value.file == "family override"
    assert "family" in info.value.reason


def test_family_is_checked_against_the_clinician_result() -> None:
    clinician = {
        "rules": {"heart_rate_low": {"tier": {"warning": {"lt": 40}, "urgent": {"lt": 35}}}}
    }
    ok = effective_ruleset(
        DEFAULTS, ctx(clinician, {"rules": {"heart_rate_low": {"tier": {"warning": {"lt": 45}}}}})
    )
    low = ok.rule("heart_rate_low")
    assert isinstance(low, ThresholdRule) and low.tiers[0].limit == 45
    with pytest.raises(FamilyOverrideError):
        effective_ruleset(
            DEFAULTS,
            ctx(clinician, {"rules": {"heart_rate_low": {"tier": {"warning": {"lt": 38}}}}}),
        )


def test_equal_limit_with_stricter_operator() -> None:
    more = {"rules": {"glucose_low": {"unit": "mg/dL", "tier": {"warning": {"le": 70}}}}}
    effective_ruleset(DEFAULTS, ctx(family=more))  # <= 70 catches everything < 70 does
    hr = {"rules": {"heart_rate_high": {"tier": {"urgent": {"gt": 150}}}}}
    with pytest.raises(FamilyOverrideError):
        effective_ruleset(DEFAULTS, ctx(family=hr))  # > 150 misses exactly 150


def test_rule_version_names_every_layer() -> None:
    c = ctx({"version": 12, "rules": {}}, {"version": "2", "rules": {}})
    assert rule_version(DEFAULTS, c) == f"{DEFAULTS.version}+c12+f2"
    long = ctx({"version": "x" * 40, "rules": {}})
    v = rule_version(DEFAULTS, long)
    assert len(v) <= 32 and v.startswith(DEFAULTS.version)


def test_context_parsing_errors() -> None:
    with pytest.raises(OverrideError, match="unknown timezone"):
        PatientContext.from_mapping({"timezone": "Mars/Olympus"})
    with pytest.raises(OverrideError, match="HH:MM"):
        PatientContext.from_mapping({"quiet_hours": [{"start": "10pm", "end": "07:00"}]})
    with pytest.raises(OverrideError) as info:
        PatientContext.from_mapping({"pets": 2})
    assert info.value.field == "pets"
    with pytest.raises(OverrideError):
        Overrides.parse({"rules": [1, 2]})


def test_glucose_overrides_must_state_their_unit() -> None:
    with pytest.raises(OverrideError) as info:
        effective_ruleset(
            DEFAULTS, ctx({"rules": {"glucose_low": {"tier": {"warning": {"lt": 4.0}}}}})
        )
    assert info.value.field == "unit" and "explicit unit" in info.value.reason


def test_the_documented_override_example_is_valid() -> None:
    import json
    import re
    from pathlib import Path

    doc = (Path(__file__).parents[2] / "docs" / "rules.md").read_text()
    block = re.search(r"```json\n(\{\"timezone\".*?)```", doc, re.S)
    assert block is not None
    c = PatientContext.from_mapping(json.loads(block.group(1)))
    rs = effective_ruleset(DEFAULTS, c)
    low = rs.rule("glucose_low")
    assert isinstance(low, ThresholdRule) and low.tiers[0].limit == 80  # family tightened
    assert not rs.rule("heart_rate_high").enabled
    assert rule_version(rs, c) == f"{DEFAULTS.version}+c7+f2"
