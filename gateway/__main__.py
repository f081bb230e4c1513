"""``python -m gateway --config FILE``: run the gateway without the console script."""

from __future__ import annotations

import argparse
import logging
import sys

from gateway.app import main

if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m gateway", description="run the gateway")
    parser.add_argument("--config", required=True, help="gateway TOML config file")
    parser.add_argument("-v", "--verbose", action="count", default=0)
    args = parser.parse_args()
    logging.basicConfig(
        level=logging.INFO if args.verbose == 0 else logging.DEBUG,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    sys.exit(main(args))
