"""``homerpm gateway``: run and manage the home gateway."""

from __future__ import annotations

import argparse

from vitals.cli import Group


class _Run:
    help = "run the gateway service"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--config", required=True, help="gateway TOML config file")

    def run(self, args: argparse.Namespace) -> int:
        from gateway.app import main

        return main(args)


command = Group("run and manage the home gateway (Bluetooth devices → rules → outbox → MQTT)",
                {"run": _Run()})
