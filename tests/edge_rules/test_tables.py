"""Validation of single rule tables: every error names file, rule, field and reason."""

from __future__ import annotations

import pytest

from edge_rules.model import Direction, Op, ThresholdRule
from edge_rules.ruleset import RuleSetError, loads_ruleset, parse_duration

HEADER = '[ruleset]\nid = "t"\nversion = "1"\n'
LOW = """
[[rule]]
id = "low"
type = "threshold"
title = "Low"
observable = "glucose"
unit = "mg/dL"
source = "test source"
[rule.tier.warning]
lt = 70
clear = 80
[rule.tier.urgent]
lt = 54
"""


def error(text: str) -> RuleSetError:
    with pytest.raises(RuleSetError) as info:
        loads_ruleset(HEADER + text, file="rules.toml")
    return info.value


def test_a_valid_rule_compiles_to_canonical_values() -> None:
    rule = loads_ruleset(HEADER + LOW).rule("low")
    assert isinstance(rule, ThresholdRule)
    assert rule.direction is Direction.BELOW
    warning, urgent = rule.tiers
    assert (warning.op, warning.limit, warning.clear) == (Op.LT, 70, 80)
    assert urgent.clear == 54  # default clear limit = the raise limit
    assert urgent.max_snooze_s == 900  # urgent default cap


def test_mmol_thresholds_are_converted_to_mg_dl() -> None:
    rule = loads_ruleset(
        HEADER
        + LOW.replace('"mg/dL"', '"mmol/L"')
        .replace("lt = 70", "lt = 3.9")
        .replace("clear = 80", "clear = 4.4")
        .replace("lt = 54", "lt = 3.0")
    ).rule("low")
    assert isinstance(rule, ThresholdRule)
    assert rule.tiers[0].limit == pytest.approx(70.26, abs=0.01)
    assert rule.tiers[1].limit == pytest.approx(54.05, abs=0.01)
    assert rule.unit == "mmol/L"  # explanations speak the unit the rule was written in


def test_glucose_thresholds_need_an_explicit_unit() -> None:
    err = error(LOW.replace('unit = "mg/dL"\n', ""))
    assert (err.file, err.rule_id, err.field) == ("rules.toml", "low", "unit")


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        (("lt = 54", "lt = 75"), "tier.urgent", "more extreme"),
        (("clear = 80", "clear = 60"), "tier.warning.clear", "safe side"),
        (("lt = 54", "gt = 54"), "tier", "same direction"),
        (("lt = 54", "lt = 50\nle = 49"), "tier.urgent.lt", "exactly one"),
        (('source = "test source"', 'source = ""'), "source", "non-empty"),
        (('observable = "glucose"', 'observable = "mood"'), "observable", "unknown observable"),
        (("lt = 54", 'lt = 54\nmax_snooze = "30m"'), "tier.urgent.max_snooze", "15 min"),
        (("lt = 54", 'lt = 54\nfor = "soon"'), "tier.urgent.for", "duration"),
        (("lt = 54", "lt = 54\ncolour = 1"), "tier.urgent.colour", "unknown field"),
        (('type = "threshold"', 'type = "magic"'), "type", "must be threshold"),
        (
            ("[rule.tier.urgent]", "[rule.tier.critical]"),
            "tier.critical",
            "info, warning or urgent",
        ),
        (("lt = 54", 'lt = 54\nquiet_hours = "sometimes"'), "tier.urgent.quiet_hours", "hold"),
        (("lt = 54", "lt = 54\nfor_readings = 0"), "tier.urgent.for_readings", ">= 1"),
    ],
)
def test_invalid_rules_name_the_field_and_reason(
    change: tuple[str, str], field: str, reason: str
) -> None:
    err = error(LOW.replace(*change))
    assert err.rule_id == "low" and err.field == field and reason in err.reason
    assert str(err).startswith("rules.toml: rule 'low': field")


def test_duplicate_ids_and_bad_ids_are_rejected() -> None:
    assert "duplicate" in error(LOW + LOW).reason
    assert error(LOW.replace('id = "low"', 'id = "Low-Rule"')).field == "id"


def test_bp_rule_validation() -> None:
    bp = """
[[rule]]
id = "bp"
type = "bp_confirm"
title = "BP"
source = "s"
systolic_ge = 180
diastolic_ge = 110
confirm_min = "5m"
confirm_max = "1m"
"""
    assert error(bp).field == "confirm_max"
    swapped = bp.replace('confirm_min = "5m"', 'confirm_min = "1m"').replace(
        'confirm_max = "1m"', 'confirm_max = "5m"'
    )
    loads_ruleset(HEADER + swapped)  # valid once the window is the right way round
    assert error(swapped.replace("systolic_ge = 180", "systolic_ge = 150")).field == (
        "clear_systolic_lt"
    )


def test_stale_rule_validation() -> None:
    stale = """
[[rule]]
id = "st"
type = "stale"
title = "St"
source = "s"
stream = "cgm"
[rule.tier.warning]
after = "30m"
[rule.tier.urgent]
after = "15m"
"""
    assert "longer gap" in error(stale).reason
    assert error(stale.replace('"cgm"', '"pigeon"')).field == "stream"
    assert error(stale.replace('after = "30m"', "")).field == "tier.warning.after"


def test_header_problems() -> None:
    with pytest.raises(RuleSetError, match="no \\[ruleset\\] header"):
        loads_ruleset(LOW)
    with pytest.raises(RuleSetError, match="invalid TOML"):
        loads_ruleset("[[rule]\n", file="broken.toml")
    assert error("[extra]\nx = 1\n").field == "extra"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("15m", 900), ("48h", 172800), ("1h30m", 5400), ("30s", 30), (90, 90), ("2.5m", 150)],
)
def test_parse_duration(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["", "5 minutes", -1, True, "m"])
def test_parse_duration_rejects(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(bad)
