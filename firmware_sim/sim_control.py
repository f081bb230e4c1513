"""The file channel between ``homerpm sim scenario`` and a running simulated home.

A directory (the demo's ``<data-dir>/sim``) on the same machine, so no port, no credentials
and nothing on the MQTT broker: a request is ``requests/<id>.json`` (written to a temporary
name, then renamed, so the home never reads half a file). The home *claims* a request by
renaming it into ``claimed/``; the command *withdraws* an unclaimed one by deleting it. Both
are atomic renames/unlinks, so exactly one side wins and a request that nobody picked up
never fires later by surprise. The home reports in ``status/<id>.json`` (``playing``,
``done``, ``replaced`` or ``rejected`` with a reason).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from vitals.ids import new_msg_id


@dataclass(frozen=True)
class Request:
    id: str
    scenario: str
    requested_at: str


@dataclass(frozen=True)
class Status:
    id: str
    scenario: str
    state: str  # "playing" | "done" | "replaced" | "rejected"
    reason: str = ""
    readings: int = 0
    last_at_s: float = 0.0


def _write_atomically(path: Path, payload: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(payload), encoding="utf-8")
    os.replace(tmp, path)


class ControlDir:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.requests = root / "requests"
        self.claimed = root / "claimed"
        self.status = root / "status"

    # The command's side ------------------------------------------------------------
    def submit(self, scenario: str) -> Request:
        request = Request(new_msg_id(), scenario, datetime.now(UTC).isoformat())
        _write_atomically(self.requests / f"{request.id}.json", asdict(request))
        return request

    def withdraw(self, request: Request) -> bool:
        """Delete an unclaimed request; False if the home claimed it first."""
        try:
            (self.requests / f"{request.id}.json").unlink()
            return True
        except FileNotFoundError:
            return False

    def read_status(self, request_id: str) -> Status | None:
        try:
            data = json.loads((self.status / f"{request_id}.json").read_text(encoding="utf-8"))
            return Status(**data)
        except FileNotFoundError:
            return None

    # The home's side ---------------------------------------------------------------
    def claim_next(self) -> Request | None:
        """The oldest waiting request (ids are ULIDs: name order is time order), claimed."""
        if not self.requests.is_dir():
            return None
        self.claimed.mkdir(parents=True, exist_ok=True)
        for path in sorted(self.requests.glob("*.json")):
            target = self.claimed / path.name
            try:
                os.rename(path, target)
            except FileNotFoundError:
                continue  # withdrawn by the command meanwhile
            try:
                data = json.loads(target.read_text(encoding="utf-8"))
                return Request(str(data["id"]), str(data["scenario"]), str(data["requested_at"]))
            except (ValueError, KeyError, TypeError) as exc:
                # Kept in claimed/ for a human to inspect; the loop goes on.
                self.report(Status(path.stem, "?", "rejected", f"malformed request: {exc}"))
        return None

    def report(self, status: Status) -> None:
        _write_atomically(self.status / f"{status.id}.json", asdict(status))


class NobodyListening(RuntimeError):
    """No simulated home claimed the request in time (it was withdrawn)."""


def request_and_wait(root: Path, scenario: str, wait_s: float, poll_s: float = 0.1) -> Status:
    """Submit a request and wait for the home's first answer (``playing`` or ``rejected``)."""
    control = ControlDir(root)
    request = control.submit(scenario)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        status = control.read_status(request.id)
        if status is not None:
            return status
        time.sleep(poll_s)
    if control.withdraw(request):
        raise NobodyListening(
            f"no simulated home picked up the request within {wait_s:.0f} s (watching {root})")
    # Claimed at the last moment: the answer follows at once.
    for _ in range(50):
        status = control.read_status(request.id)
        if status is not None:
            return status
        time.sleep(poll_s)
    raise NobodyListening(f"the simulated home claimed request {request.id} but never answered")
