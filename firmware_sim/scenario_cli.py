"""``homerpm sim scenario NAME``: play a scripted patient scenario into a running simulated home."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DEFAULT_DATA_DIR = "./demo-data"  # the same default as ``homerpm demo --data-dir``


def control_dir(data_dir: str | Path) -> Path:
    """Where a demo with this ``--data-dir`` listens for scenario requests."""
    return Path(data_dir).resolve() / "sim"


def _first_line(text: str) -> str:
    return " ".join(text.split()).split(". ")[0].removesuffix(".")


def _at(seconds: float) -> str:
    return "at once" if seconds < 1 else f"+{seconds:.0f} s"


class ScenarioCommand:
    help = "play a scripted patient scenario (e.g. hypertensive-crisis) into the running demo"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.description = (
            "Plays a live scenario (firmware_sim/scenarios/*.toml with live = true) into the "
            "simulated home of a running `homerpm demo`: its devices take the scripted "
            "measurements, which travel the real pipeline (device bytes, gateway rules, MQTT, "
            "cloud, dashboard). All data is simulated.")
        parser.add_argument("name", nargs="?", help="scenario name (see --list)")
        parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
        parser.add_argument("--data-dir", default=DEFAULT_DATA_DIR,
                            help="the running demo's --data-dir (default %(default)s)")
        parser.add_argument("--wait", type=float, default=15.0, metavar="S",
                            help="how long to wait for the simulated home to answer")

    def run(self, args: argparse.Namespace) -> int:
        from firmware_sim.scenario import live_scenarios
        from firmware_sim.sim_control import NobodyListening, request_and_wait

        scenarios = live_scenarios()
        if args.list:
            width = max(map(len, scenarios), default=0)
            for name, scn in scenarios.items():
                print(f"{name:<{width}}  {_first_line(scn.description)}")
            return 0
        valid = ", ".join(scenarios)
        if not args.name:
            print(f"homerpm sim scenario: name a scenario: {valid}", file=sys.stderr)
            return 2
        scenario = scenarios.get(args.name)
        if scenario is None:
            print(f"homerpm sim scenario: unknown scenario {args.name!r}; valid: {valid}",
                  file=sys.stderr)
            return 2
        if not control_dir(args.data_dir).is_dir():
            print(f"homerpm sim scenario: no simulated home at {control_dir(args.data_dir)}. Is "
                  f"`homerpm demo --data-dir {args.data_dir}` running?", file=sys.stderr)
            return 1
        try:
            status = request_and_wait(control_dir(args.data_dir), args.name, args.wait)
        except NobodyListening as exc:
            print(f"homerpm sim scenario: {exc}. Is `homerpm demo --data-dir {args.data_dir}` "
                  "running?", file=sys.stderr)
            return 1
        if status.state != "playing":
            print(f"homerpm sim scenario: the simulated home refused {args.name}: "
                  f"{status.reason}", file=sys.stderr)
            return 1
        print(f"playing {args.name} (simulated) in the home at {control_dir(args.data_dir).parent}:"
              f" {status.readings} readings over {status.last_at_s:.0f} s")
        for x in scenario.expected:
            print(f"  expect {x.severity} {x.rule_id} ({x.state}) "
                  f"{_at((x.at - scenario.start).total_seconds())}")
        if not scenario.expected:
            print("  expect no alert")
        return 0


command = ScenarioCommand()
