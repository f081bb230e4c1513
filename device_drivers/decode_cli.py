"""``homerpm decode --char UUID --hex HEX [--manufacturer M --model X]``.

Prints the decoded value as one JSON object on stdout (exit 0), or one line on stderr
(exit 2) when the UUID is unknown, the hex is malformed or the payload does not decode.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TextIO

from device_drivers.codecs.registry import codec_for
from device_drivers.errors import DecodeError, UnknownCharacteristicError
from device_drivers.jsonable import to_jsonable
from device_drivers.quirks import quirks_for

EXIT_OK = 0
EXIT_ERROR = 2


def main(args: argparse.Namespace, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    stdout = out if out is not None else sys.stdout
    stderr = err if err is not None else sys.stderr
    try:
        codec = codec_for(args.char)
    except UnknownCharacteristicError as exc:
        print(f"error: {exc}", file=stderr)
        return EXIT_ERROR
    text = "".join(str(args.hex).split()).removeprefix("0x")
    try:
        payload = bytes.fromhex(text)
    except ValueError:
        print(f"error: --hex is not hexadecimal bytes: {args.hex!r}", file=stderr)
        return EXIT_ERROR
    quirks = quirks_for(getattr(args, "manufacturer", None), getattr(args, "model", None))
    try:
        value = codec.decode(payload, quirks)
    except DecodeError as exc:
        print(f"error: {exc}", file=stderr)
        return EXIT_ERROR
    document = {
        "characteristic": codec.name,
        "uuid": codec.uuid,
        "quirks": quirks.name,
        "value": to_jsonable(value),
    }
    print(json.dumps(document, ensure_ascii=False), file=stdout)
    return EXIT_OK


def cli_main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry (``python -m device_drivers.decode_cli ...``)."""
    from device_drivers.cli import command

    parser = argparse.ArgumentParser(prog="homerpm decode", description=command.help)
    command.configure(parser)
    return main(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(cli_main())
