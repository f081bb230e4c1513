"""``homerpm sim device`` in-process."""

from __future__ import annotations

import pytest

from firmware_sim.cli import command
from vitals.cli import build_parser


def run_cli(argv: list[str]) -> int:
    args = build_parser({"sim": command}).parse_args(argv)
    result: int = args._command.run(args)
    return result


def test_in_process_glucose_meter_prints_its_records(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["sim", "device", "glucose", "--records", "3", "--seed", "4"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and all(line.startswith("2A18 ") for line in lines)
    assert [line.split("sequence=")[1].split(",")[0] for line in lines] == ["1", "2", "3"]


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(SystemExit):
        run_cli(["sim", "device", "thermometer"])


# `sim device --bluez` as a separate process, found by `gateway scan` and bonded by
# `gateway pair`: tests/gateway/test_ble_cli.py.
