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

    def run(self, args: argparse.Namespace) -> int:
        from firmware_sim.demo import main

        return main(args)


command = _Demo()
