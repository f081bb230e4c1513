"""The control directory between ``homerpm sim scenario`` and a simulated home."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from firmware_sim.sim_control import ControlDir, NobodyListening, Status, request_and_wait


def test_a_claimed_request_cannot_be_withdrawn_and_vice_versa(tmp_path: Path) -> None:
    control = ControlDir(tmp_path)
    first, second = control.submit("hypoglycaemia"), control.submit("normal-day")
    claimed = control.claim_next()
    assert claimed == first  # oldest first (ULID order)
    assert control.withdraw(first) is False  # the home won
    assert control.withdraw(second) is True  # the command won: nothing left to claim
    assert control.claim_next() is None
    assert [p.name for p in control.claimed.iterdir()] == [f"{first.id}.json"]


def test_nobody_listening_withdraws_the_request(tmp_path: Path) -> None:
    with pytest.raises(NobodyListening, match="no simulated home picked up"):
        request_and_wait(tmp_path, "hypoglycaemia", wait_s=0.3)
    # It must not fire later when a home starts watching this directory.
    assert ControlDir(tmp_path).claim_next() is None


def test_a_malformed_request_is_rejected_and_kept(tmp_path: Path) -> None:
    control = ControlDir(tmp_path)
    control.requests.mkdir(parents=True)
    (control.requests / "01BAD.json").write_text("{not json")
    good = control.submit("normal-day")
    assert control.claim_next() == good  # the bad one does not hide the good one
    status = control.read_status("01BAD")
    assert status is not None and status.state == "rejected" and "malformed" in status.reason
    assert (control.claimed / "01BAD.json").read_text() == "{not json"


def test_status_round_trips(tmp_path: Path) -> None:
    control = ControlDir(tmp_path)
    control.report(Status("01X", "hypoglycaemia", "playing", readings=3, last_at_s=40.0))
    assert control.read_status("01X") == Status("01X", "hypoglycaemia", "playing", "", 3, 40.0)
    assert json.loads((control.status / "01X.json").read_text())["state"] == "playing"
    assert control.read_status("01Y") is None
