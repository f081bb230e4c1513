"""``homerpm sim fleet``: M simulated gateways publishing K readings each over real MQTT."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

from firmware_sim.fleet import FleetSpec, provision, run_fleet


class FleetCommand:
    help = "run M simulated gateways (real outbox, real MQTT) with deterministic readings"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--gateways", type=int, default=10, metavar="M")
        parser.add_argument("--readings-per-gateway", type=int, default=100, metavar="K")
        parser.add_argument("--rate", type=float, default=0.0, metavar="R",
                            help="readings/s for the whole fleet (0 = as fast as possible)")
        parser.add_argument("--broker", default="mqtt://127.0.0.1:1883", metavar="URL",
                            help="mqtt://[user:pass@]host:port")
        parser.add_argument("--seed", type=int, default=1,
                            help="same seed → same readings and msg_ids")
        parser.add_argument("--prefix", default="fleet", help="gateway/patient id prefix")
        parser.add_argument("--first", type=int, default=0,
                            help="index of the first gateway (to split a fleet over processes)")
        parser.add_argument("--replay", type=float, default=0.0, metavar="FRACTION",
                            help="re-send this share of readings (same ids) after the acks")
        parser.add_argument("--provision", metavar="DB_URL",
                            help="register the fleet's patients and gateways in this cloud DB")
        parser.add_argument("--workdir", type=Path, default=None,
                            help="where the outboxes live (default: a temporary directory)")
        parser.add_argument("--batch-max-items", type=int, default=200, metavar="N",
                            help="readings per MQTT message, as the gateway Drainer packs them "
                                 "(the gateway's default 200; wire v1 allows up to 1000)")
        parser.add_argument("--timeout", type=float, default=600.0, metavar="S")
        parser.add_argument("--latency-out", type=Path, default=None, metavar="FILE",
                            help="write each capture's timings (firmware_sim.fleet.ReadingTiming:"
                                 " msg_id, replay, then time.time() stamps) as JSON lists")

    def run(self, args: argparse.Namespace) -> int:
        url = urlsplit(args.broker)
        if url.scheme != "mqtt" or not url.hostname:
            raise SystemExit(f"--broker {args.broker!r}: use mqtt://host:port")
        spec = FleetSpec(
            gateways=args.gateways, readings_per_gateway=args.readings_per_gateway,
            host=url.hostname, port=url.port or 1883, rate=args.rate, seed=args.seed,
            prefix=args.prefix, first=args.first, replay_fraction=args.replay,
            batch_max_items=args.batch_max_items,
            username=unquote(url.username) if url.username else None,
            password=unquote(url.password) if url.password else None,
        )
        if args.provision:
            provision(args.provision, spec)
        # The generator's own garbage-collector cost must not count as the gateways' work:
        # young collections every 50 000 allocations, as in the ingest worker
        # (cloud_api.gc_tuning.GC_THRESHOLDS; docs/performance.md "Session 3").
        gc.set_threshold(50_000, 20, 10)
        with tempfile.TemporaryDirectory(prefix="homerpm-fleet-") as tmp:
            result = asyncio.run(run_fleet(spec, args.workdir or Path(tmp), args.timeout))
        if args.latency_out:
            args.latency_out.write_text(json.dumps(result.timings))
        print(json.dumps({
            "gateways": spec.gateways, "expected": spec.gateways * spec.readings_per_gateway,
            "captured": result.captured, "acked": result.acked, "replayed": result.replayed,
            "duration_s": round(result.duration_s, 3), "cpu_s": round(result.cpu_s, 3),
        }))
        return 0
