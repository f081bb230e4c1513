"""The root ``homerpm`` command: discovery of each package's subcommand and ``--help``."""

from __future__ import annotations

import subprocess
import sys

import pytest

from vitals import cli

EXPECTED = {"demo", "gateway", "cloud", "sim", "decode"}


def test_every_package_registers_its_subcommand() -> None:
    assert set(cli._registered()) >= EXPECTED


def test_subcommands_are_listed_in_a_stable_order() -> None:
    names = list(cli._commands())
    assert names[:5] == ["demo", "gateway", "cloud", "sim", "decode"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_help_of_each_subcommand(name: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "vitals.cli", name, "--help"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: homerpm {name}")
    assert cli._commands()[name].help.split()[0] in result.stdout


def test_missing_subcommand_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as info:
        cli.main([])
    assert info.value.code == 2
