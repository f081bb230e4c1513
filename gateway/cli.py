"""``homerpm gateway``: run and manage the home gateway."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from vitals.cli import Group


class _Run:
    help = "run the gateway service"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--config", required=True, help="gateway TOML config file")

    def run(self, args: argparse.Namespace) -> int:
        from gateway.app import main

        return main(args)


class _Precompile:
    help = "write the bytecode cache the gateway service loads (the unit's ExecStartPre)"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        pass

    def run(self, args: argparse.Namespace) -> int:
        from gateway.bytecode import precompile

        cached = precompile()
        where = sys.pycache_prefix or "__pycache__ beside each module"
        print(f"{cached} modules cached at optimisation level {sys.flags.optimize} in {where}")
        return 0


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
        def version(key: str) -> int | None:
            return int(json.loads(meta[key])["version"]) if key in meta else None
        figures = {
            "gateway": cfg.gateway_id, "outbox": str(cfg.outbox.path),
            "depth": stats.depth, "alerts": stats.alerts, "bytes": stats.bytes,
            "unacked": stats.unacked, "oldest_age_s": age_s,
            "evicted_total": stats.evicted_total, "rejected_inbound": rejects,
            "config_version": version("applied_config"),
            "config_received_version": version("down_config"),
        }
        if args.json:
            print(json.dumps(figures))
        else:
            for key, value in figures.items():
                print(f"{key:>23}: {value}")
        return 0


class _Scan:
    help = "list nearby Bluetooth health devices (address, name, RSSI, services -> kind)"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--adapter", default="hci0", help="BlueZ adapter (default hci0)")
        parser.add_argument("--seconds", type=float, default=10.0, help="how long to listen")
        parser.add_argument("--all", action="store_true", help="show every device, not only "
                            "blood pressure / glucose / ECG / HR / SpO2 / scale")

    def run(self, args: argparse.Namespace) -> int:
        import asyncio

        from device_drivers.ble.tools import HEADER, scan_devices

        found = asyncio.run(
            scan_devices(adapter=args.adapter, seconds=args.seconds, everything=args.all)
        )
        print(HEADER)
        for device in found:
            print(device.row())
        if not found:
            print("(nothing found: is the device awake / in pairing mode, the adapter up?)")
        return 0


class _Pair:
    help = "bond with a device (passkey prompt) and assign it to a patient pseudonym"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        # Not device_drivers.ble.tools: building the parser for ``gateway run`` must not
        # import the pairing agent and scanner (bleak, dbus-fast) into the gateway.
        from device_drivers.ble.pairings import default_store_path
        from vitals.readings import ReadingKind

        parser.add_argument("address", help="device address, e.g. C0:FF:EE:00:00:02")
        parser.add_argument("--patient", required=True, help="patient pseudonym (not a name)")
        parser.add_argument("--kind", choices=[k.value for k in ReadingKind],
                            help="device kind if its advertisement does not say")
        parser.add_argument("--adapter", default="hci0")
        parser.add_argument("--store", type=Path, default=default_store_path(),
                            help="pairings file the gateway config points at "
                                 "(default %(default)s)")
        parser.add_argument("--no-bond", action="store_true",
                            help="only record the assignment (devices that need no bonding)")
        parser.add_argument("--agent-capability", default="KeyboardDisplay",
                            choices=["KeyboardDisplay", "KeyboardOnly", "DisplayYesNo",
                                     "DisplayOnly", "NoInputNoOutput"],
                            help="BlueZ agent IO capability (default %(default)s)")
        parser.add_argument("--find-seconds", type=float, default=30.0)

    def run(self, args: argparse.Namespace) -> int:
        import asyncio

        from device_drivers.ble.pairings import PairingStore
        from device_drivers.ble.tools import pair_device
        from device_drivers.ble.transport import BleError
        from vitals.readings import ReadingKind

        async def prompt(address: str) -> int | None:
            text = await asyncio.to_thread(
                input, f"Passkey shown on {address} (6 digits, empty to cancel): "
            )
            text = text.strip()
            return int(text) if text.isdigit() and len(text) <= 6 else None

        try:
            pairing = asyncio.run(pair_device(
                args.address, patient=args.patient, store=PairingStore(args.store),
                passkey=prompt, adapter=args.adapter,
                kind=ReadingKind(args.kind) if args.kind else None, bond=not args.no_bond,
                find_s=args.find_seconds, capability=args.agent_capability,
            ))
        except BleError as exc:
            print(f"pairing failed: {exc}", file=sys.stderr)
            return 1
        print(f"paired {pairing.address} ({pairing.kind.value}, {pairing.name or '?'}) "
              f"-> patient {pairing.patient}; recorded in {args.store}")
        return 0


command = Group("run and manage the home gateway (Bluetooth devices → rules → outbox → MQTT)",
                {"run": _Run(), "precompile": _Precompile(), "status": _Status(),
                 "scan": _Scan(), "pair": _Pair()})
