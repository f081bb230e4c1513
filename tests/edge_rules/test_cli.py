"""``homerpm rules check|show``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from edge_rules.cli import command


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    command.configure(parser)
    args = parser.parse_args(argv)
    sub = command.subcommands[argv[0]]
    return sub.run(args)


def test_check_defaults_and_a_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"profile": "aha", "patients": {"p1": {"timezone": "UTC"}}}))
    assert run(["check", "--config", str(cfg)]) == 0
    assert "1 patient contexts" in capsys.readouterr().out


def test_check_reports_a_bad_family_override(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "cfg.toml"
    cfg.write_text("[patients.p1.family.rules.stale_cgm]\nenabled = false\n")
    assert run(["check", "--config", str(cfg)]) == 1
    assert "a family may not disable a rule" in capsys.readouterr().err


def test_show_effective_rules(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "cfg.json"
    cfg.write_text(
        json.dumps(
            {
                "patients": {
                    "p1": {
                        "clinician": {
                            "version": "5",
                            "rules": {"heart_rate_low": {"tier": {"warning": {"lt": 45}}}},
                        }
                    }
                }
            }
        )
    )
    assert run(["show", "--config", str(cfg), "--patient", "p1"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["rule_version"].endswith("+c5")
    low = next(r for r in shown["rules"] if r["id"] == "heart_rate_low")
    assert low["thresholds"]["warning_lt"] == 45
