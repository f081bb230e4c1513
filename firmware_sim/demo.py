"""``homerpm demo``: the whole system on one machine, on simulated devices.

Starts, as separate processes: a private mosquitto broker, one ingest worker, the API, and a
gateway whose devices are simulated: a blood-pressure cuff and a glucose meter (GATT models
read through the in-memory BLE transport) measured by a calm simulated home
(:mod:`firmware_sim.home`). Prints a line containing ``ready`` and the URL once a simulated
reading is visible through the API. Then, unless ``--calm``, it plays the scripted emergency
exactly as ``homerpm sim scenario hypertensive-crisis`` would, and prints a line containing
``alert raised`` once the urgent alert is in the clinician inbox.
Every child is watched: if one dies, the demo says which and shows the end of its log.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from firmware_sim.scenario_cli import DEFAULT_DATA_DIR, control_dir
from firmware_sim.services import ManagedProcess, Mosquitto, ServiceError, spawn
from firmware_sim.sim_control import NobodyListening, request_and_wait

GATEWAY = "gw-demo-1"
PATIENT = "demo-patient-1"
DEMO_USER, DEMO_PASSWORD = "demo", "demo"
READY_TIMEOUT_S = 180.0
EMERGENCY = "hypertensive-crisis"


def _homerpm(*argv: str) -> list[str]:
    # Run sub-services through this interpreter so the demo works from any venv.
    return [sys.executable, "-m", "vitals.cli", *argv]


def gateway_config(data_dir: Path, broker_port: int) -> str:
    return f"""# Written by `homerpm demo`. Simulated devices only.
gateway_id = "{GATEWAY}"

[mqtt]
url = "mqtt://127.0.0.1:{broker_port}"

[outbox]
path = "{data_dir / "gateway" / "outbox.db"}"

# The simulated home: calm readings every interval_s; `homerpm sim scenario NAME` drops a
# request here to play a scripted scenario (e.g. the hypertensive crisis) on these devices.
[simulator]
control_dir = "{control_dir(data_dir)}"

[[devices]]
id = "cuff"
kind = "blood_pressure"
simulated = true
simulator = "gatt"
patient = "{PATIENT}"
interval_s = 30.0

[[devices]]
id = "meter"
kind = "glucose"
simulated = true
patient = "{PATIENT}"
interval_s = 30.0
"""


def _http_json(url: str, data: bytes | None = None, token: str | None = None) -> object:
    request = urllib.request.Request(url, data=data)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


class Demo:
    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir = data_dir
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.broker = Mosquitto(data_dir / "mosquitto")
        self.children: list[ManagedProcess] = []

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.broker.start()
        db_url = f"sqlite:///{self.data_dir / 'cloud.db'}"
        broker_url = f"mqtt://127.0.0.1:{self.broker.port}"
        self._run_once("seed", _homerpm("cloud", "seed-demo", "--db", db_url))
        ingest = self._spawn(
            "ingest",
            _homerpm(
                "-v", "cloud", "ingest", "--id", "ingest-0", "--broker", broker_url, "--db", db_url
            ),
        )
        self._spawn(
            "api",
            _homerpm(
                "cloud", "api", "--db", db_url, "--host", "127.0.0.1", "--port", str(self.port)
            ),
        )
        config = self.data_dir / "gateway.toml"
        (self.data_dir / "gateway").mkdir(exist_ok=True)
        control_dir(self.data_dir).mkdir(exist_ok=True)
        config.write_text(gateway_config(self.data_dir, self.broker.port))
        # The worker's persistent session must exist before the first publish, or the very
        # first readings would wait for the gateway's resend timeout.
        ingest.wait_for_log("subscribed", READY_TIMEOUT_S)
        self._spawn("gateway", _homerpm("gateway", "run", "--config", str(config)))

    def _run_once(self, name: str, argv: list[str]) -> None:
        process = spawn(name, argv, self.data_dir / "logs")
        if process.proc.wait(120) != 0:
            raise ServiceError(f"`{' '.join(argv[2:])}` failed:\n{process.log()[-2000:]}")

    def _spawn(self, name: str, argv: list[str]) -> ManagedProcess:
        child = spawn(name, argv, self.data_dir / "logs")
        self.children.append(child)
        return child

    def check_children(self) -> None:
        for child in self.children:
            if child.proc.poll() is not None:
                raise ServiceError(
                    f"{child.name} exited with code {child.proc.returncode}; "
                    f"end of {child.log_path}:\n{child.log()[-2000:]}"
                )

    def wait_until_ready(self) -> dict[str, object]:
        """Wait for the first reading to be visible through the API."""
        return self._first_item(f"/api/v1/patients/{PATIENT}/readings", "reading")

    def wait_for_alert(self, timeout_s: float | None = READY_TIMEOUT_S) -> dict[str, object]:
        """Wait for an urgent alert (the scripted emergency's) to reach the cloud inbox."""
        return self._first_item("/api/v1/alerts?severity=urgent", "urgent alert", timeout_s)

    def play(self, scenario: str) -> None:
        """What ``homerpm sim scenario`` does, from inside the demo."""
        try:
            status = request_and_wait(control_dir(self.data_dir), scenario, READY_TIMEOUT_S)
        except NobodyListening as exc:
            raise ServiceError(str(exc)) from None
        if status.state != "playing":
            raise ServiceError(f"the simulated home refused {scenario}: {status.reason}")

    def wait(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.check_children()
            time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))

    def _first_item(
        self, path: str, what: str, timeout_s: float | None = READY_TIMEOUT_S
    ) -> dict[str, object]:
        """Log in as the demo clinician and poll ``path`` until its page has an item."""
        deadline = time.monotonic() + (timeout_s if timeout_s is not None else float("inf"))
        form = urllib.parse.urlencode({"username": DEMO_USER, "password": DEMO_PASSWORD}).encode()
        while time.monotonic() < deadline:
            self.check_children()
            try:
                token = _http_json(f"{self.base}/api/v1/auth/token", form)
                page = _http_json(f"{self.base}{path}", token=token["access_token"])  # type: ignore[index]
                items = page["items"]  # type: ignore[index]
                if items:
                    return items[0]  # type: ignore[no-any-return]
            except (urllib.error.URLError, OSError, KeyError, ValueError):
                pass
            time.sleep(0.5)
        raise ServiceError(f"no {what} visible through the API within {timeout_s:.0f} s")

    def stop(self) -> None:
        for child in reversed(self.children):
            child.stop()
        self.broker.stop()


def _trigger_command(data_dir: str) -> str:
    same = Path(data_dir).resolve() == Path(DEFAULT_DATA_DIR).resolve()
    where = "" if same else f" --data-dir {Path(data_dir).resolve()}"
    return f"homerpm sim scenario {EMERGENCY}{where}"


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(args: argparse.Namespace) -> int:
    # SIGTERM stops the demo like Ctrl-C does: children are stopped, not orphaned.
    signal.signal(signal.SIGTERM, _interrupt)
    demo = Demo(Path(args.data_dir).resolve(), args.port)
    print(
        "HomeRPM demo: simulated devices and a demo-only clinician login "
        f"({DEMO_USER} / {DEMO_PASSWORD}). Never use demo mode for real patients.",
        flush=True,
    )
    try:
        demo.start()
        first = demo.wait_until_ready()
        print(
            f"HomeRPM demo ready: {demo.base}  (dashboard {demo.base}/dashboard/, API docs "
            f"{demo.base}/docs; first reading {first.get('msg_id')} for patient {PATIENT})",
            flush=True,
        )
        trigger = _trigger_command(args.data_dir)
        if args.calm:
            print("HomeRPM demo: the simulated home stays calm (--calm). Trigger the scripted "
                  f"emergency from another terminal: {trigger}", flush=True)
        else:
            print("HomeRPM demo: the simulated home is calm; its scripted emergency starts in "
                  f"{args.emergency_after:.0f} s, as if you ran: {trigger}  (start the demo "
                  "with --calm to trigger it yourself)", flush=True)
            demo.wait(args.emergency_after)
            demo.play(EMERGENCY)
            print(f"HomeRPM demo: playing {EMERGENCY} (simulated); the urgent alert follows "
                  "the confirming re-measurement about 62 s from now", flush=True)
        alert = demo.wait_for_alert(None if args.calm else READY_TIMEOUT_S)
        print(
            f"HomeRPM demo alert raised: {alert.get('severity')} {alert.get('title')!r} for "
            f"patient {alert.get('patient_id')} (simulated), see {demo.base}/dashboard/",
            flush=True,
        )
        while True:
            time.sleep(1.0)
            demo.check_children()
    except ServiceError as exc:
        print(f"homerpm demo: {exc}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print("stopping…", flush=True)
        return 0
    finally:
        demo.stop()
