"""The shipped default rule set, profiles and directory loading."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_rules.model import BpConfirmRule, StaleRule, ThresholdRule
from edge_rules.ruleset import RuleSetError, load_ruleset
from vitals.alerts import Severity

EXPECTED_RULES = {
    "glucose_low",
    "glucose_high",
    "bp_severe",
    "heart_rate_low",
    "heart_rate_high",
    "ecg_possible_af",
    "ecg_pause",
    "stale_cgm",
    "stale_ecg",
    "no_reading_bp",
    "no_reading_glucose_meter",
}


def test_defaults_load_with_every_rule_citing_a_source() -> None:
    rs = load_ruleset()
    assert {r.id for r in rs.rules} == EXPECTED_RULES
    assert all(len(r.source) > 20 for r in rs.rules)
    assert rs.rule_version == rs.version


def test_default_hypoglycaemia_matches_ada() -> None:
    rule = load_ruleset().rule("glucose_low")
    assert isinstance(rule, ThresholdRule)
    warning, urgent = rule.tiers
    assert (warning.limit, warning.clear, warning.clear_for_s) == (70, 80, 900)
    assert (urgent.limit, urgent.max_snooze_s, urgent.quiet_hours.value) == (54, 900, "bypass")
    assert warning.quiet_hours.value == "hold"


def test_default_severe_bp_and_profiles() -> None:
    base = load_ruleset().rule("bp_severe")
    aha = load_ruleset(profile="aha")
    china = load_ruleset(profile="china_esc")
    assert isinstance(base, BpConfirmRule)
    assert (base.systolic_ge, base.diastolic_ge, base.severity) == (180, 110, Severity.URGENT)
    assert (base.confirm_min_s, base.confirm_max_s) == (60, 300)
    aha_bp = aha.rule("bp_severe")
    assert isinstance(aha_bp, BpConfirmRule) and aha_bp.diastolic_ge == 120
    assert "AHA" in aha_bp.source
    assert aha.rule_version.endswith("+aha") and china.rule_version.endswith("+china_esc")
    assert china.rule("bp_severe") == base


def test_unknown_profile_is_a_clear_error() -> None:
    with pytest.raises(RuleSetError, match="unknown profile 'nice'"):
        load_ruleset(profile="nice")


def test_heart_rate_and_stale_defaults() -> None:
    rs = load_ruleset()
    high = rs.rule("heart_rate_high")
    assert isinstance(high, ThresholdRule)
    assert [(t.limit, t.for_s) for t in high.tiers] == [(100, 300), (150, 300)]
    assert high.kinds == ("heart_rate", "ecg")  # cuff pulse does not feed it
    stale = rs.rule("stale_cgm")
    assert isinstance(stale, StaleRule)
    assert [t.after_s for t in stale.tiers] == [900, 1800]
    nudge = rs.rule("no_reading_bp")
    assert isinstance(nudge, StaleRule) and nudge.tiers[0].severity is Severity.INFO


def test_load_a_directory_of_rule_files(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text('[ruleset]\nid = "site"\nversion = "7"\n')
    (tmp_path / "b.toml").write_text(
        '[[rule]]\nid = "hr"\ntype = "threshold"\ntitle = "HR"\nobservable = "heart_rate"\n'
        'source = "s"\n[rule.tier.warning]\ngt = 120\n'
    )
    rs = load_ruleset(tmp_path)
    assert (rs.id, rs.version, [r.id for r in rs.rules]) == ("site", "7", ["hr"])
    (tmp_path / "c.toml").write_text('[ruleset]\nid = "x"\nversion = "1"\n')
    with pytest.raises(RuleSetError, match="second \\[ruleset\\]") as info:
        load_ruleset(tmp_path)
    assert info.value.file == "c.toml"


def test_a_broken_profile_fails_at_load(tmp_path: Path) -> None:
    (tmp_path / "r.toml").write_text(
        '[ruleset]\nid = "s"\nversion = "1"\n'
        '[[rule]]\nid = "hr"\ntype = "threshold"\ntitle = "HR"\nobservable = "heart_rate"\n'
        'source = "s"\n[rule.tier.warning]\ngt = 120\n'
        '[profile.bad.rules.hr.tier.warning]\ngt = "fast"\n'
    )
    with pytest.raises(RuleSetError) as info:
        load_ruleset(tmp_path)
    assert info.value.rule_id == "hr" and info.value.field == "tier.warning.gt"


def test_the_documented_rule_file_example_loads() -> None:
    import re

    from edge_rules.ruleset import loads_ruleset

    doc = (Path(__file__).parents[2] / "docs" / "rules.md").read_text()
    block = re.search(r"## Rule files\n\n```toml\n(.*?)```", doc, re.S)
    assert block is not None
    rule = loads_ruleset(block.group(1)).rule("glucose_low")
    assert isinstance(rule, ThresholdRule) and rule.tiers[0].repeat_s == 3600
