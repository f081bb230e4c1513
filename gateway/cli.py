"""``homerpm gateway``: run and manage the home gateway."""

from __future__ import annotations

import argparse
import json
import sys
import time

from vitals.cli import Group


class _Run:
    help = "run the gateway service"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--config", required=True, help="gateway TOML config file")

    def run(self, args: argparse.Namespace) -> int:
        from gateway.app import main

        return main(args)


class _Status:
    help = "show the outbox (depth, unacked, evictions) without disturbing a running gateway"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--config", required=True, help="gateway TOML config file")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def run(self, args: argparse.Namespace) -> int:
        import sqlite3

        from gateway.config import ConfigError, load_config
        from gateway.outbox import inspect

        try:
            cfg = load_config(args.config)
        except ConfigError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        if not cfg.outbox.path.exists():
            print(f"error: no outbox at {cfg.outbox.path} (has the gateway run yet?)",
                  file=sys.stderr)
            return 1
        try:
            stats, meta, rejects = inspect(cfg.outbox.path)
        except sqlite3.Error as exc:
            print(f"error: cannot read {cfg.outbox.path}: {exc}", file=sys.stderr)
            return 1
        age_s = None
        if stats.oldest_created_ms is not None:
            age_s = round(time.time() - stats.oldest_created_ms / 1000, 1)
        config_version = json.loads(meta["down_config"])["version"] if "down_config" in meta \
            else None
        figures = {
            "gateway": cfg.gateway_id, "outbox": str(cfg.outbox.path),
            "depth": stats.depth, "alerts": stats.alerts, "bytes": stats.bytes,
            "unacked": stats.unacked, "oldest_age_s": age_s,
            "evicted_total": stats.evicted_total, "rejected_inbound": rejects,
            "config_version": config_version,
        }
        if args.json:
            print(json.dumps(figures))
        else:
            for key, value in figures.items():
                print(f"{key:>17}: {value}")
        return 0


command = Group("run and manage the home gateway (Bluetooth devices → rules → outbox → MQTT)",
                {"run": _Run(), "status": _Status()})
