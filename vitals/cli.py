"""The ``homerpm`` command.

Each top-level package registers its subcommand through the ``homerpm.commands`` entry
point group (see pyproject.toml); this module only discovers and dispatches, so the
shared domain package never imports the services built on it.

A subcommand entry point is an object with ``help: str``, ``configure(parser)`` and
``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import tomllib
from collections.abc import Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import Protocol, cast


class Command(Protocol):
    help: str

    def configure(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


# Shown in this order; anything else registered comes after.
_ORDER = ("demo", "gateway", "cloud", "sim", "decode")


def _registered() -> dict[str, str]:
    """Subcommand name → ``module:attribute``, from the installed entry points.

    From a source checkout that was never installed (no entry-point metadata), the same
    table is read from the checkout's pyproject.toml, so ``python -m vitals.cli`` works too.
    """
    found = {ep.name: ep.value for ep in entry_points(group="homerpm.commands")}
    if not found:
        pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
        if pyproject.is_file():
            project = tomllib.loads(pyproject.read_text()).get("project", {})
            found = dict(project.get("entry-points", {}).get("homerpm.commands", {}))
    return found


def _load(target: str) -> Command:
    module, _, attribute = target.partition(":")
    return cast(Command, getattr(importlib.import_module(module), attribute))


def _commands(only: str | None = None) -> dict[str, Command]:
    """The registered subcommands, imported; just ``only`` when it names one of them."""
    found = _registered()
    if only in found:
        return {only: _load(found[only])}
    ordered = [n for n in _ORDER if n in found] + sorted(set(found) - set(_ORDER))
    return {name: _load(found[name]) for name in ordered}


def _named(argv: Sequence[str]) -> str | None:
    """The subcommand named on the command line: the first word that is not an option
    (the root options take no value)."""
    return next((arg for arg in argv if not arg.startswith("-")), None)


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
    argv = sys.argv[1:] if argv is None else list(argv)
    # Import only the package whose command runs: each package's cli module pulls in its
    # service (the cloud's imports SQLAlchemy and FastAPI), and the gateway on a Pi must
    # not carry the cloud's modules in its memory budget. ``homerpm --help`` or an unknown
    # name loads them all, to list them.
    parser = build_parser(_commands(only=_named(argv)))
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
    except BrokenPipeError:
        # Output piped into `head` and the like: stop quietly, as Unix tools do.
        sys.stderr.close()
        return 141


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
