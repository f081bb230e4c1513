"""Reading a systemd unit the way benches and tests start the gateway."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from firmware_sim.unit import Unit

REPO = Path(__file__).resolve().parents[2]
GATEWAY_UNIT = REPO / "deploy" / "systemd" / "homerpm-gateway.service"


def test_the_gateway_unit_as_a_pi_runs_it() -> None:
    unit = Unit.read(GATEWAY_UNIT)
    assert unit.environment["PYTHONOPTIMIZE"] == "2"
    assert unit.environment["PYTHONPYCACHEPREFIX"].startswith("/var/cache/homerpm/")
    # the commented-out secret in the unit is not an Environment= line
    assert not any(name.startswith("HOMERPM_") for name in unit.environment)
    assert unit.exec_start_pre == (("/opt/homerpm/.venv/bin/homerpm", "gateway", "precompile"),)
    assert unit.exec_start[1:] == ("gateway", "run", "--config", "/etc/homerpm/gateway.toml")


def test_localized_replaces_system_paths_in_environment_and_commands(tmp_path: Path) -> None:
    unit = Unit.read(GATEWAY_UNIT).localized({
        "/etc/homerpm/gateway.toml": str(tmp_path / "gw.toml"),
        "/var/cache/homerpm": str(tmp_path / "cache"),
    })
    assert unit.environment["PYTHONPYCACHEPREFIX"] == str(tmp_path / "cache" / "pycache")
    assert unit.exec_start[-1] == str(tmp_path / "gw.toml")
    assert unit.environment["PYTHONOPTIMIZE"] == "2"  # values without those paths unchanged


def test_argv_runs_the_console_script_as_this_interpreters_module() -> None:
    assert Unit.argv(("/opt/homerpm/.venv/bin/homerpm", "gateway", "run")) == [
        sys.executable, "-m", "vitals.cli", "gateway", "run"]
    assert Unit.argv(("/usr/bin/env", "true")) == ["/usr/bin/env", "true"]


def test_a_unit_without_exec_start_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.service"
    path.write_text("[Service]\nEnvironment=A=1\n")
    with pytest.raises(ValueError, match="no ExecStart"):
        Unit.read(path)


def test_service_environment_is_the_units_over_the_callers_without_dontwritebytecode() -> None:
    unit = Unit.read(GATEWAY_UNIT)
    env = unit.service_environment({"PYTHONOPTIMIZE": "0", "DBUS_SYSTEM_BUS_ADDRESS": "x"})
    assert env["PYTHONOPTIMIZE"] == "2" and env["DBUS_SYSTEM_BUS_ADDRESS"] == "x"
    assert env["PYTHONDONTWRITEBYTECODE"] == ""


async def test_run_pre_runs_each_command_in_order_and_fails_loudly(tmp_path: Path) -> None:
    path = tmp_path / "x.service"
    path.write_text("[Service]\nExecStartPre=/bin/sh -c 'echo one $GREETING'\n"
                    "ExecStartPre=/bin/echo two\nExecStart=/bin/true\n")
    assert await Unit.read(path).run_pre({"GREETING": "hi"}) == ["one hi\n", "two\n"]
    path.write_text("[Service]\nExecStartPre=/bin/sh -c 'echo no >&2; exit 3'\n"
                    "ExecStart=/bin/true\n")
    with pytest.raises(subprocess.CalledProcessError) as failed:
        await Unit.read(path).run_pre({})
    assert failed.value.returncode == 3 and failed.value.stderr == "no\n"
