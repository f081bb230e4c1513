"""The ``homerpm`` command.

Each top-level package registers its subcommand through the ``homerpm.commands`` entry
point group (see pyproject.toml); this module only discovers and dispatches, so the
shared domain package never imports the services built on it.

A subcommand entry point is an object with ``help: str``, ``configure(parser)`` and
``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points
from typing import Protocol


class Command(Protocol):
    help: str

    def configure(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


# Shown in this order; anything else registered comes after.
_ORDER = ("demo", "gateway", "cloud", "sim", "decode")


def _commands() -> dict[str, Command]:
    found = {ep.name: ep for ep in entry_points(group="homerpm.commands")}
    ordered = [n for n in _ORDER if n in found] + sorted(set(found) - set(_ORDER))
    return {name: found[name].load() for name in ordered}


def build_parser(commands: dict[str, Command]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="homerpm",
        description="HomeRPM: remote patient monitoring for home chronic-disease care.",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, command in commands.items():
        child = sub.add_parser(name, help=command.help, description=command.help)
        command.configure(child)
        child.set_defaults(_command=command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(_commands())
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * args.verbose
    logging.basicConfig(
        level=max(level, logging.DEBUG), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    command: Command = args._command
    try:
        return command.run(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())


class Group:
    """A command made of subcommands (``homerpm gateway run|status|scan|pair``)."""

    def __init__(self, help: str, subcommands: dict[str, Command]) -> None:
        self.help = help
        self.subcommands = subcommands

    def configure(self, parser: argparse.ArgumentParser) -> None:
        sub = parser.add_subparsers(dest=f"_{id(self)}", metavar="SUBCOMMAND", required=True)
        for name, command in self.subcommands.items():
            child = sub.add_parser(name, help=command.help, description=command.help)
            command.configure(child)
            child.set_defaults(_leaf=command)

    def run(self, args: argparse.Namespace) -> int:
        leaf: Command = args._leaf
        return leaf.run(args)
