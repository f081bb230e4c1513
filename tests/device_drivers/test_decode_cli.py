import argparse
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from device_drivers import decode_cli

ROOT = Path(__file__).resolve().parents[2]


def _run(**kw: object) -> tuple[int, str, str]:
    args = argparse.Namespace(manufacturer=None, model=None, **kw)
    out, err = io.StringIO(), io.StringIO()
    code = decode_cli.main(args, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_bp_json() -> None:
    code, out, err = _run(char="2A35", hex="1E 8A00 5800 7800 0000 04 11 14 29 3B 3C00 01 2700")
    assert code == 0 and err == ""
    assert out.count("\n") == 1
    doc = json.loads(out)
    assert doc["characteristic"] == "Blood Pressure Measurement"
    value = doc["value"]
    assert (value["systolic"], value["diastolic"], value["mean_arterial"]) == (138, 88, 120)
    assert value["timestamp"] == "0000-04-17T20:41:59"
    assert value["status"]["irregular_pulse"] is True


def test_specials_are_strings_not_numbers() -> None:
    code, out, _ = _run(char="0x2a35", hex="1E9C00FF07FF07E30708090D1835FF07001000")
    value = json.loads(out)["value"]
    assert code == 0 and value["diastolic"] == "NaN" and value["pulse_rate"] == "NaN"


def test_quirk_selection() -> None:
    args = argparse.Namespace(
        char="2A35",
        hex="566A0047000000EA07080B121F00003F000000",
        manufacturer="Beurer",
        model="BM85",
    )
    out = io.StringIO()
    assert decode_cli.main(args, out=out, err=io.StringIO()) == 0
    doc = json.loads(out.getvalue())
    assert doc["quirks"] == "beurer-bm85" and doc["value"]["pulse_rate"] == 63


@pytest.mark.parametrize(
    ("char", "hexstr", "needle"),
    [
        ("2A35", "566A0047000000EA07080B121F00003F000000", "trailing"),
        ("2A99", "00", "no codec"),
        ("2A35", "zz", "not hexadecimal"),
        ("2A35", "1", "not hexadecimal"),
    ],
)
def test_errors_one_line_exit_2(char: str, hexstr: str, needle: str) -> None:
    code, out, err = _run(char=char, hex=hexstr)
    assert code == 2 and out == ""
    assert needle in err and err.count("\n") == 1 and "Traceback" not in err


def test_every_codec_output_is_json() -> None:
    code, out, _ = _run(
        char="fb005c82-02e7-f387-1cad-8acd2d8df0c8", hex="000094357700000000000280FF028000"
    )
    assert code == 0 and json.loads(out)["value"]["samples_uv"] == [-32766, 32770]
    code, out, _ = _run(char="2A52", hex="06000106")
    assert json.loads(out)["value"]["code"] == "NO_RECORDS_FOUND"


def test_subprocess_wrapper() -> None:
    ok = subprocess.run(
        [sys.executable, "-m", "device_drivers.decode_cli", "--char", "2A37", "--hex", "16483903"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["value"]["rr_intervals"] == [825]
    bad = subprocess.run(
        [sys.executable, "-m", "device_drivers.decode_cli", "--char", "2A37", "--hex", "10"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.startswith("error: 2A37") and "Traceback" not in bad.stderr


def test_through_root_cli_parser(capsys: pytest.CaptureFixture[str]) -> None:
    from device_drivers.cli import command
    from vitals.cli import build_parser

    parser = build_parser({"decode": command})
    args = parser.parse_args(["decode", "--char", "2A52", "--hex", "0103010F00"])
    assert args._command.run(args) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["value"]["operator"] == "GREATER_OR_EQUAL" and doc["value"]["operand"] == [15]
