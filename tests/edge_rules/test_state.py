"""State is a value: JSON round trip, restart mid-stream, determinism, order independence."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge_rules.engine import evaluate
from edge_rules.state import (
    EngineState,
    StateFormatError,
    StateWriter,
    state_from_json,
    state_to_json,
)
from tests.edge_rules.rules_helpers import DEFAULTS, Driver, at, glucose, hr
from vitals.readings import ReadingBase

values = st.lists(st.integers(min_value=35, max_value=320), min_size=1, max_size=30)


def readings_from(vals: list[int]) -> list[ReadingBase]:
    out: list[ReadingBase] = []
    for i, v in enumerate(vals):
        out.append(glucose(at(i * 5), v))
        out.append(hr(at(i * 5, 30), 40 + v % 140))
    return out


def run(readings: list[ReadingBase], restart_at: int | None = None) -> tuple[list[str], str]:
    state = EngineState()
    log: list[str] = []
    for i, r in enumerate(readings):
        if i == restart_at:
            state = state_from_json(state_to_json(state))
        out, state = evaluate([r], state, r.measured_at, ruleset=DEFAULTS)
        log += [a.model_dump_json() for a in out]
    out, state = evaluate([], state, at(60 * 24), ruleset=DEFAULTS)
    log += [a.model_dump_json() for a in out]
    return log, state_to_json(state)


@settings(max_examples=40, deadline=None)
@given(vals=values, data=st.data())
def test_restart_anywhere_changes_nothing(vals: list[int], data: st.DataObject) -> None:
    readings = readings_from(vals)
    split = data.draw(st.integers(min_value=0, max_value=len(readings) - 1))
    assert run(readings, restart_at=split) == run(readings)


@settings(max_examples=40, deadline=None)
@given(vals=values, data=st.data())
def test_batch_order_does_not_matter(vals: list[int], data: st.DataObject) -> None:
    readings = readings_from(vals)
    shuffled = data.draw(st.permutations(readings))
    now = at(len(vals) * 5)
    a_out, a_state = evaluate(readings, EngineState(), now, ruleset=DEFAULTS)
    b_out, b_state = evaluate(shuffled, EngineState(), now, ruleset=DEFAULTS)
    assert a_out == b_out and state_to_json(a_state) == state_to_json(b_state)


def test_round_trip_keeps_open_alerts_snoozes_and_pending_confirmations() -> None:
    from edge_rules.snooze import snooze
    from tests.edge_rules.rules_helpers import P, bp

    d = Driver()
    d.feed(glucose(at(0), 60))
    d.feed(bp(at(1), 190, 100))
    d.state, _ = snooze(
        d.state, patient=P, rule_id="glucose_low", duration_s=600, now=at(2), ruleset=DEFAULTS
    )
    text = state_to_json(d.state)
    back = state_from_json(text)
    assert back == d.state and state_to_json(back) == text
    track = back.track(P, "bp_severe")
    assert track is not None and len(track.pending) == 2
    assert [r for _, r, _ in back.open_alerts()] == ["bp_severe", "glucose_low"]


def test_bad_state_is_refused_loudly() -> None:
    with pytest.raises(StateFormatError, match="format 99"):
        state_from_json('{"format": 99}')
    with pytest.raises(StateFormatError, match="unreadable"):
        state_from_json('{"tracks": 5}')


def test_state_writer_is_copy_on_write() -> None:
    old = EngineState()
    w = StateWriter(old)
    w.write("p", "r").confirmed = True
    assert old.tracks == {} and w.new.track("p", "r") is not None
    w2 = StateWriter(w.new)
    w2.write("p", "r").confirmed = False
    assert w.new.tracks["p"]["r"].confirmed is True
    assert w2.remember_id("p", "bp", "A") and not w2.remember_id("p", "bp", "A")
    assert w2.remember_id("p", "cgm", "A")  # rings are per stream
