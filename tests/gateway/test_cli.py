"""``homerpm gateway status`` reads the outbox without disturbing it."""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.cli import command
from gateway.outbox import Outbox
from tests.gateway.gw_factories import alert, bp


def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    command.configure(parser)
    args = parser.parse_args(argv)
    return command.run(args)


def test_status_prints_outbox_figures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "o.db"
    config = tmp_path / "gw.toml"
    config.write_text(f'gateway_id = "gw-s"\n[outbox]\npath = "{db}"\n')
    box = Outbox(db)
    r = bp(1)
    box.put(r, [alert(r)])
    box.put(bp(2))
    leased = box.next_batch(1, now=10**13)
    box.close()
    assert run_cli(["status", "--config", str(config), "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert (figures["depth"], figures["alerts"], figures["unacked"]) == (3, 1, 0)
    with sqlite3.connect(db) as raw:  # the lease survived: status opened the file read-only
        lease = raw.execute("SELECT next_attempt_ms FROM outbox WHERE msg_id = ?",
                            (leased[0].msg_id,)).fetchone()[0]
    assert lease > 10**13


def test_status_without_outbox_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "gw.toml"
    config.write_text(f'gateway_id = "gw-s"\n[outbox]\npath = "{tmp_path}/none.db"\n')
    assert run_cli(["status", "--config", str(config)]) == 1
    assert "no outbox" in capsys.readouterr().err


def test_run_with_invalid_config_exits_2_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "gw.toml"
    config.write_text('gateway_id = "gw-s"\n[outbox]\nwindow = 0\n')
    assert run_cli(["run", "--config", str(config)]) == 2
    assert "outbox.window" in capsys.readouterr().err


def test_pair_store_defaults_to_the_state_directory() -> None:
    parser = argparse.ArgumentParser()
    command.configure(parser)
    args = parser.parse_args(["pair", "C0:FF:EE:00:00:02", "--patient", "p-1"])
    assert args.store == Path("/var/lib/homerpm/pairings.json")


def test_gateway_run_parser_leaves_the_pairing_tools_unimported() -> None:
    """``homerpm gateway run`` builds every gateway subcommand's parser; the pair command's
    must not import the scanner and BlueZ pairing agent into the gateway's memory."""
    code = ("import sys; from vitals.cli import build_parser, _commands; "
            "build_parser(_commands(only='gateway')); "
            "print(sorted(m for m in ('device_drivers.ble.tools', 'device_drivers.ble.agent') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[2]).stdout
    assert out.strip() == "[]"
