"""The rules configuration block: profile + patient contexts, validated up front."""

from __future__ import annotations

import pytest

from edge_rules.config import parse_rules_config
from edge_rules.overrides import FamilyOverrideError
from edge_rules.ruleset import RuleSetError


def test_valid_config() -> None:
    cfg = parse_rules_config(
        {
            "profile": "aha",
            "patients": {
                "p1": {"timezone": "Asia/Shanghai", "clinician": {"version": "3", "rules": {}}}
            },
        }
    )
    assert cfg.ruleset.profile == "aha" and cfg.patients["p1"].timezone == "Asia/Shanghai"


def test_a_bad_family_override_is_refused_with_the_patient_named() -> None:
    with pytest.raises(FamilyOverrideError) as info:
        parse_rules_config(
            {"patients": {"p9": {"family": {"rules": {"stale_cgm": {"enabled": False}}}}}}
        )
    assert str(info.value).startswith("patients.p9: family override: rule 'stale_cgm'")


@pytest.mark.parametrize(
    "body",
    [
        {"profile": "nowhere"},
        {"colour": 1},
        {"patients": {"p": 3}},
        {"patients": [1]},
        {"patients": {"p": {"timezone": "Nowhere/City"}}},
    ],
)
def test_bad_configs(body: dict[str, object]) -> None:
    with pytest.raises(RuleSetError):
        parse_rules_config(body)
