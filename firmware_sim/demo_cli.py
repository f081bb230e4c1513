"""``homerpm demo``: the whole system on one machine with simulated devices."""

from __future__ import annotations

import argparse


class _Demo:
    help = (
        "start broker, ingest, API, a gateway and a simulated home on this machine "
        "(demo credentials, simulated data)"
    )

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--port", type=int, default=8000, help="HTTP port for the API")
        parser.add_argument("--data-dir", default="./demo-data", help="where state is kept")
        parser.add_argument(
            "--calm", action="store_true",
            help="keep the simulated home calm; trigger the emergency yourself with "
                 "`homerpm sim scenario hypertensive-crisis` (default: it plays by itself)")
        parser.add_argument(
            "--emergency-after", type=float, default=5.0, metavar="S",
            help="without --calm: seconds of calm readings after 'ready' before the scripted "
                 "emergency starts (default %(default)s)")

    def run(self, args: argparse.Namespace) -> int:
        from firmware_sim.demo import main

        return main(args)


command = _Demo()
