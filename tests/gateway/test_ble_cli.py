"""``homerpm gateway scan`` and ``pair`` through the CLI parser, against BlueZoo with a
simulated cuff in a separate process (the BlueZ GATT application of ``sim device``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware_sim.bluez.mock import BlueZooMock
from gateway.cli import command
from tests.gateway.gw_process import sim_device
from vitals.cli import build_parser

pytestmark = [pytest.mark.bluez, pytest.mark.timeout(60)]


@pytest.fixture
def bluez(tmp_path: Path) -> Iterator[BlueZooMock]:
    mock = BlueZooMock(tmp_path / "bluezoo", adapters=3).start()
    with mock.environment():
        yield mock
    mock.stop()


@pytest.fixture
def cuff(bluez: BlueZooMock) -> Iterator[str]:
    with sim_device(bluez, "bp", 1) as address:
        yield address


def gateway(argv: list[str]) -> int:
    args = build_parser({"gateway": command}).parse_args(["gateway", *argv])
    result: int = args._command.run(args)
    return result


def test_scan_then_pair(cuff: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert gateway(["scan", "--seconds", "2.5"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["ADDRESS", "RSSI", "KIND"]
    row = next(line for line in lines if line.startswith(cuff))
    assert "blood_pressure" in row and "HomeRPM-BP" in row and "1810" in row

    # hci2: BlueZoo does not re-report an unchanged device to a second scanner on hci0
    # (a real BlueZ does, through RSSI updates).
    store = tmp_path / "pairings.json"
    code = gateway(["pair", cuff, "--patient", "p-77", "--store", str(store), "--adapter",
                    "hci2", "--agent-capability", "NoInputNoOutput", "--find-seconds", "10"])
    assert code == 0, capsys.readouterr()
    saved = json.loads(store.read_text())["devices"][cuff]
    assert saved["patient"] == "p-77" and saved["kind"] == "blood_pressure" and saved["bonded"]
    assert f"paired {cuff}" in capsys.readouterr().out


def test_pair_unknown_device_fails_cleanly(bluez: BlueZooMock, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    code = gateway(["pair", "00:11:22:33:44:55", "--patient", "p-1",
                    "--store", str(tmp_path / "p.json"), "--find-seconds", "1.5"])
    assert code == 1 and "not seen within" in capsys.readouterr().err
    assert not (tmp_path / "p.json").exists()
