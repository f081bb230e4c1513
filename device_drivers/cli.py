"""``homerpm decode``: decode one GATT characteristic value."""

from __future__ import annotations

import argparse


class _Decode:
    help = "decode a Bluetooth GATT characteristic value given as hex, print JSON"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--char", required=True, help="characteristic UUID, e.g. 2A35")
        parser.add_argument("--hex", required=True, help="payload bytes as hex")
        parser.add_argument("--manufacturer", help="Device Information manufacturer name")
        parser.add_argument("--model", help="Device Information model number")

    def run(self, args: argparse.Namespace) -> int:
        from device_drivers.decode_cli import main

        return main(args)


command = _Decode()
