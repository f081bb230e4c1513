"""``homerpm sim scenario``: listing, refusals, and a request answered by a simulated home."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware_sim.cli import command
from firmware_sim.devices.glucose_gatt import GlucoseMeter
from firmware_sim.home import HomeDevice, SimulatedHome
from firmware_sim.scenario import live_scenarios
from vitals.cli import build_parser


def run_cli(argv: list[str]) -> int:
    args = build_parser({"sim": command}).parse_args(argv)
    result: int = args._command.run(args)
    return result


def test_list_prints_every_live_scenario_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["sim", "scenario", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == sorted(live_scenarios())
    assert {"hypertensive-crisis", "hypoglycaemia", "normal-day"} <= set(live_scenarios())
    crisis = next(line for line in lines if line.startswith("hypertensive-crisis "))
    assert "re-measured 62 s later" in crisis and "\n" not in crisis


def test_unknown_name_lists_the_valid_ones(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["sim", "scenario", "heart-attack"]) == 2
    err = capsys.readouterr().err
    assert "unknown scenario 'heart-attack'" in err
    assert all(name in err for name in live_scenarios())
    assert run_cli(["sim", "scenario"]) == 2
    assert "hypoglycaemia" in capsys.readouterr().err


def test_without_a_running_demo_it_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(["sim", "scenario", "hypoglycaemia", "--data-dir", str(tmp_path)]) == 1
    assert "no simulated home at" in capsys.readouterr().err
    (tmp_path / "sim").mkdir()  # a stale demo directory: nobody claims the request
    assert run_cli(["sim", "scenario", "hypoglycaemia", "--data-dir", str(tmp_path),
                    "--wait", "0.5"]) == 1
    assert "no simulated home picked up the request" in capsys.readouterr().err
    assert list((tmp_path / "sim" / "requests").iterdir()) == []  # withdrawn, never fires


@pytest.fixture
def running_home(tmp_path: Path) -> Iterator[SimulatedHome]:
    """A simulated home in its own event loop, as inside the demo's gateway process."""
    home = SimulatedHome([HomeDevice("glucose", GlucoseMeter(), 3600.0)], tmp_path / "sim",
                         poll_s=0.05, first_after_s=3600.0, speed=500.0)
    loop = asyncio.new_event_loop()
    task = loop.create_task(home.run())

    def serve() -> None:
        with contextlib.suppress(asyncio.CancelledError):
            loop.run_until_complete(task)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield home
    loop.call_soon_threadsafe(task.cancel)
    thread.join(10)
    loop.close()


def test_a_running_home_plays_it_and_the_command_says_what_to_expect(
    tmp_path: Path, running_home: SimulatedHome, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(["sim", "scenario", "hypoglycaemia", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("playing hypoglycaemia (simulated)")
    assert out[0].endswith("3 readings over 40 s")
    assert out[1:] == ["  expect warning glucose_low (open) at once",
                       "  expect urgent glucose_low (updated) +40 s"]
    # This home has a meter only: a blood-pressure scenario is refused with the reason.
    assert run_cli(["sim", "scenario", "hypertensive-crisis", "--data-dir", str(tmp_path)]) == 1
    assert "has no bp device" in capsys.readouterr().err


def test_help() -> None:
    for argv in (["sim", "scenario", "--help"], ["demo", "--help"]):
        result = subprocess.run([sys.executable, "-m", "vitals.cli", *argv],
                                capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(f"usage: homerpm {' '.join(argv[:-1])}")
    assert "--list" in result.stdout or "--calm" in result.stdout
    assert "--calm" in result.stdout and "homerpm sim scenario" in result.stdout
