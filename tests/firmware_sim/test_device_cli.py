"""``homerpm sim device`` in-process, and on BlueZ (BlueZoo) found by ``gateway scan``
and bonded by ``gateway pair`` — the simulator in a separate process, as on a 2nd box."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from device_drivers.ble.pairings import PairingStore
from device_drivers.ble.tools import pair_device, scan_devices
from firmware_sim.bluez.mock import BlueZooMock
from firmware_sim.cli import command
from vitals.cli import build_parser
from vitals.readings import ReadingKind

REPO = Path(__file__).resolve().parents[2]


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


@pytest.mark.bluez
@pytest.mark.timeout(60)
async def test_sim_on_bluez_is_scanned_and_paired(bluez: BlueZooMock, tmp_path: Path) -> None:
    env = {**os.environ, **bluez.env(), "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(  # noqa: ASYNC220 - a long-lived child, stopped below by pid
        [sys.executable, "-m", "firmware_sim.device_cli", "bp", "--bluez", "--adapter", "hci1"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "Ctrl-C to stop" in line, line
        found = await scan_devices(adapter="hci0", seconds=3)
        cuff = next(f for f in found if f.address == bluez.addresses[1])
        assert cuff.kind is ReadingKind.BLOOD_PRESSURE and cuff.name == "HomeRPM-BP"
        store = PairingStore(tmp_path / "pairings.json")

        async def no_passkey(address: str) -> int | None:
            raise AssertionError("Just Works pairing asked for a passkey")

        # BlueZoo reports a device to a central only when its properties change, so a
        # second scanner on hci0 would not see the (unchanged) cuff again; a real BlueZ
        # sends RSSI updates. The installer's "pair" step therefore uses hci4.
        pairing = await pair_device(
            cuff.address, patient="p-0042", store=store, passkey=no_passkey,
            capability="NoInputNoOutput", find_s=10, adapter="hci4",
        )
        assert pairing.kind is ReadingKind.BLOOD_PRESSURE and pairing.bonded
        assert store.load()[cuff.address].patient == "p-0042"
        assert pairing.name == "HomeRPM SimCuff"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    assert proc.returncode == 0
