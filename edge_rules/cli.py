"""``homerpm rules``: check rule files and patient configurations, show effective rules."""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from pathlib import Path
from typing import Any

from edge_rules.config import parse_rules_config
from edge_rules.explain import thresholds
from edge_rules.overrides import effective_ruleset, rule_version
from edge_rules.ruleset import RuleSetError, load_ruleset
from vitals.cli import Group


def _read_config(path: str) -> dict[str, Any]:
    p = Path(path)
    text = p.read_text(encoding="utf-8")
    loaded: dict[str, Any] = tomllib.loads(text) if p.suffix == ".toml" else json.loads(text)
    return loaded


class _Check:
    help = "validate a rule set (default: the shipped one) and optionally a rules config"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("path", nargs="?", help="rule file or directory of *.toml")
        parser.add_argument("--profile", help="site profile to apply (e.g. aha, china_esc)")
        parser.add_argument("--config", help='JSON/TOML {"profile":…, "patients": {…}} to check')

    def run(self, args: argparse.Namespace) -> int:
        try:
            rs = load_ruleset(args.path, profile=args.profile)
            print(f"ok: {rs.id} {rs.rule_version}, {len(rs.rules)} rules")
            if args.config:
                cfg = parse_rules_config(_read_config(args.config), base=rs)
                print(f"ok: {len(cfg.patients)} patient contexts")
        except (RuleSetError, OSError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        return 0


class _Show:
    help = "print the effective rules (defaults, profile, one patient's overrides) as JSON"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--rules", help="rule file or directory (default: shipped)")
        parser.add_argument("--config", help="rules config (JSON/TOML) holding the patient")
        parser.add_argument("--patient", help="patient pseudonym in --config")

    def run(self, args: argparse.Namespace) -> int:
        try:
            rs = load_ruleset(args.rules)
            ctx = None
            if args.config:
                cfg = parse_rules_config(_read_config(args.config), base=rs)
                rs = cfg.ruleset
                ctx = cfg.patients.get(args.patient) if args.patient else None
            eff = effective_ruleset(rs, ctx)
        except (RuleSetError, OSError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        out = {
            "rule_version": rule_version(eff, ctx),
            "rules": [{"id": r.id, "enabled": r.enabled, "title": r.title,
                       "thresholds": thresholds(r), "source": r.source} for r in eff.rules],
        }
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return 0


command = Group("check and show alert rule sets and per-patient overrides",
                {"check": _Check(), "show": _Show()})
