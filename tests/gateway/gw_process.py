"""Run the real gateway and the real ingest worker as subprocesses (integration tests).

The cloud side is ``python -m vitals.cli cloud ingest`` writing a seeded SQLite store
(``cloud seed-demo``: gateway ``gw-demo-1``, patient ``demo-patient-1``), as in
tests/e2e/test_thin_path.py; the tests read that store directly.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from firmware_sim.bluez.mock import BlueZooMock
from firmware_sim.services import ManagedProcess, Mosquitto, spawn

REPO = Path(__file__).resolve().parents[2]
GW = "gw-demo-1"
PATIENT = "demo-patient-1"


def homerpm(*argv: str) -> list[str]:
    return [sys.executable, "-m", "vitals.cli", *argv]


def seed_cloud(workdir: Path) -> str:
    db_url = f"sqlite:///{workdir / 'cloud.db'}"
    proc = spawn("seed", homerpm("cloud", "seed-demo", "--db", db_url), workdir / "logs",
                 env={"PYTHONPATH": str(REPO)})
    assert proc.proc.wait(120) == 0, proc.log()
    return db_url


def start_ingest(workdir: Path, broker: Mosquitto, db_url: str,
                 ready_within: float = 90) -> ManagedProcess:
    """Start the worker and wait until it is connected to ``broker`` (its first start has
    no broker session yet: anything published before it subscribes is not for it)."""
    proc = spawn("ingest", homerpm("-v", "cloud", "ingest", "--id", "ingest-0", "--broker",
                                   f"mqtt://{broker.host}:{broker.port}", "--db", db_url),
                 workdir / "logs", env={"PYTHONPATH": str(REPO)})
    proc.wait_for_log("subscribed", ready_within)
    return proc


def start_gateway(workdir: Path, config: Path, name: str = "gateway") -> ManagedProcess:
    return spawn(name, [sys.executable, "-m", "gateway", "--config", str(config)],
                 workdir / "logs", env={"PYTHONPATH": str(REPO)})


@contextlib.contextmanager
def sim_device(mock: BlueZooMock, kind: str, adapter: int, *extra: str) -> Iterator[str]:
    """A simulated device in its own process (``sim device KIND --bluez``), a GATT
    peripheral on ``mock``'s adapter ``hci<adapter>``; yields its address."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "firmware_sim.device_cli", kind, "--bluez", "--adapter",
         f"hci{adapter}", *extra],
        cwd=REPO, env={**os.environ, **mock.env(), "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    assert proc.stdout is not None
    assert "Ctrl-C to stop" in proc.stdout.readline()
    try:
        yield mock.addresses[adapter]
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def cloud_readings(workdir: Path) -> list[str]:
    """msg_ids in the cloud store (the table's key is msg_id, so rows are distinct)."""
    path = workdir / "cloud.db"
    if not path.exists():
        return []
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as db:
            return [r[0] for r in db.execute("SELECT msg_id FROM readings")]
    except sqlite3.OperationalError:  # not created yet / busy
        return []


def cloud_alerts(workdir: Path) -> list[tuple[str, str]]:
    path = workdir / "cloud.db"
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as db:
        rows = db.execute("SELECT msg_id, alert_id FROM alert_events")
        return [(str(r[0]), str(r[1])) for r in rows]


def outbox_depth(workdir: Path) -> int:
    path = workdir / "outbox.db"
    if not path.exists():
        return -1
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as db:
        return int(db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])


def gateway_toml(workdir: Path, port: int, *, extra_mqtt: str = "", extra_outbox: str = "",
                 devices: str = "", rest: str = "") -> Path:
    path = workdir / "gateway.toml"
    path.write_text(f"""
gateway_id = "{GW}"
status_interval_s = 1

[mqtt]
url = "mqtt://127.0.0.1:{port}"
will_delay_s = 0
reconnect_min_s = 0.1
reconnect_max_s = 1
{extra_mqtt}

[outbox]
path = "{workdir / "outbox.db"}"
max_messages_per_s = 0
{extra_outbox}

[status_page]
enabled = false

{rest}

{devices}
""")
    return path
