"""`homerpm demo` from the outside, as the README tells a new user to run it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from firmware_sim.services import free_port

pytestmark = [pytest.mark.services, pytest.mark.slow]


def _get(url: str, token: str | None = None, data: bytes | None = None) -> object:
    request = urllib.request.Request(url, data=data)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_demo_comes_up_shows_a_reading_raises_an_alert_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    demo = subprocess.Popen(
        [sys.executable, "-m", "vitals.cli", "demo", "--port", str(port),
         "--data-dir", str(tmp_path / "demo")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines: list[str] = []
    try:
        assert demo.stdout is not None
        for line in demo.stdout:
            lines.append(line)
            if "ready" in line:
                break
        assert any("ready" in line for line in lines), "".join(lines)
        ready = lines[-1]
        assert f"http://127.0.0.1:{port}" in ready
        assert "demo / demo" in "".join(lines)  # the demo credentials are said on screen

        form = urllib.parse.urlencode({"username": "demo", "password": "demo"}).encode()
        token = _get(f"http://127.0.0.1:{port}/api/v1/auth/token", data=form)
        page = _get(f"http://127.0.0.1:{port}/api/v1/patients/demo-patient-1/readings",
                    token=token["access_token"])  # type: ignore[index]
        assert page["items"] and page["items"][0]["simulated"] is True  # type: ignore[index]

        # The scripted emergency (a cuff in the severe range, confirmed a minute later) must
        # reach the clinician inbox by itself.
        for line in demo.stdout:
            lines.append(line)
            if "alert raised" in line:
                break
        assert "alert raised: urgent" in lines[-1], "".join(lines)
    finally:
        demo.send_signal(signal.SIGTERM)
        demo.wait(30)
    assert demo.returncode == 0
    # Every child was stopped: nothing listens on the API port any more.
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)


def test_demo_without_mosquitto_says_how_to_install_it(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "vitals.cli", "demo", "--port", str(free_port()),
         "--data-dir", str(tmp_path / "demo")],
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "HOMERPM_MOSQUITTO_BIN": str(tmp_path / "absent")},
    )
    assert result.returncode == 1
    assert "apt-get install -y mosquitto" in result.stderr
