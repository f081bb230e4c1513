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


def test_the_named_subcommand_is_the_first_word_that_is_not_an_option() -> None:
    assert cli._named(["-v", "gateway", "run", "--config", "x.toml"]) == "gateway"
    assert cli._named(["--verbose", "-v"]) is None
    assert cli._named([]) is None


def test_running_one_subcommand_imports_no_other_package() -> None:
    # The gateway runs as `homerpm gateway run` on a Pi: the cloud's modules (SQLAlchemy,
    # FastAPI) and the simulators must not be imported into its process.
    code = (
        "import sys\n"
        "from vitals.cli import main\n"
        "try:\n"
        "    main(['-v', 'gateway', 'run', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted({m.split('.')[0] for m in sys.modules}"
        " & {'cloud_api', 'firmware_sim', 'sqlalchemy', 'fastapi', 'gateway'}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: homerpm gateway run")
    assert result.stdout.splitlines()[-1] == "['gateway']"


def test_root_help_lists_every_subcommand() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "vitals.cli", "--help"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    for name in EXPECTED:
        assert name in result.stdout
