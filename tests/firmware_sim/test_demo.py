"""`homerpm demo` from the outside, as the README tells a new user to run it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import httpx
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


def _sse_events(url: str, token: str, out: list[dict[str, str]], stop: threading.Event) -> None:
    """Collect the dashboard's alert stream (SSE) until ``stop`` or a glucose_low urgent."""
    current: dict[str, str] = {}
    try:
        with httpx.Client(timeout=httpx.Timeout(10, read=240)) as http, http.stream(
            "GET", url, headers={"Authorization": f"Bearer {token}"}
        ) as stream:
            for line in stream.iter_lines():
                if line.startswith(":"):
                    continue
                if line == "":
                    if "data" in current:
                        out.append(current)
                        if "glucose_low" in current["data"] and "urgent" in current["data"]:
                            return
                    current = {}
                else:
                    name, _, value = line.partition(": ")
                    current[name] = value
                if stop.is_set():
                    return
    except httpx.HTTPError:
        return  # the demo stopped; the assertions below say what was missing


def test_calm_demo_raises_the_alert_when_sim_scenario_is_run(tmp_path: Path) -> None:
    port, data_dir = free_port(), tmp_path / "demo"
    base = f"http://127.0.0.1:{port}"
    demo = subprocess.Popen(
        [sys.executable, "-m", "vitals.cli", "demo", "--calm", "--port", str(port),
         "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines: list[str] = []
    stop = threading.Event()
    events: list[dict[str, str]] = []
    # A calm demo waits for ever; if the alert never comes, stop it so the test fails with
    # the demo's output instead of hanging.
    watchdog = threading.Timer(200, demo.send_signal, args=(signal.SIGTERM,))
    watchdog.start()
    try:
        assert demo.stdout is not None
        for line in demo.stdout:
            lines.append(line)
            if "ready" in line:
                break
        lines.append(demo.stdout.readline())
        # The demo says how to trigger the emergency, exactly.
        assert f"homerpm sim scenario hypertensive-crisis --data-dir {data_dir}" in lines[-1], \
            "".join(lines)

        form = urllib.parse.urlencode({"username": "demo", "password": "demo"}).encode()
        token = _get(f"{base}/api/v1/auth/token", data=form)["access_token"]  # type: ignore[index]
        sse = threading.Thread(target=_sse_events, daemon=True,
                               args=(f"{base}/api/v1/stream", token, events, stop))
        sse.start()
        time.sleep(1.0)  # the stream starts with new events only
        calm = _get(f"{base}/api/v1/alerts", token=token)
        assert calm["items"] == [], calm  # type: ignore[index]  # calm: nothing raised itself

        result = subprocess.run(
            [sys.executable, "-m", "vitals.cli", "sim", "scenario", "hypoglycaemia",
             "--data-dir", str(data_dir)],
            capture_output=True, text=True, timeout=60, check=False,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("playing hypoglycaemia (simulated)")

        for line in demo.stdout:
            lines.append(line)
            if "alert raised" in line:
                break
        assert "alert raised: urgent 'Low glucose'" in lines[-1], "".join(lines)
        sse.join(30)
        assert any(e.get("event") == "alert.raised" and "glucose_low" in e["data"]
                   for e in events), events

        # Alerts travel on their own path ahead of readings (docs/ingest.md): the reading
        # behind the alert may still be in the worker's batch window (≤ 200 ms), longer
        # on a loaded machine. Wait for it rather than race it.
        deadline = time.monotonic() + 15
        while True:
            page = _get(f"{base}/api/v1/patients/demo-patient-1/readings?kind=glucose&limit=50",
                        token=token)
            scripted = [r for r in page["items"]  # type: ignore[index]
                        if r["values"]["mg_dl"] in (66.0, 58.0, 49.0)]
            if len(scripted) >= 3 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert len(scripted) == 3 and all(r["simulated"] for r in scripted)
    finally:
        watchdog.cancel()
        stop.set()
        demo.send_signal(signal.SIGTERM)
        demo.wait(30)
    assert demo.returncode == 0
