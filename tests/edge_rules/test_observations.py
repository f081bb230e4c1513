"""Readings → observations: streams, what is skipped, ECG quality handling."""

from __future__ import annotations

import math

from edge_rules.observations import observe, stream_of
from tests.edge_rules.rules_helpers import at, bp, fake_analyze, glucose, hr, strip


def test_streams() -> None:
    assert stream_of(glucose(at(0), 100)) == "cgm"
    assert stream_of(glucose(at(0), 100, cgm=False)) == "glucose_meter"
    assert stream_of(bp(at(0), 120, 80)) == "bp"
    assert stream_of(strip(at(0), 1)) == "ecg"


def test_bp_yields_systolic_diastolic_and_pulse() -> None:
    obs = observe(bp(at(0), 120, 80, pulse=70), None)
    assert [(o.observable, o.value) for o in obs] == [
        ("systolic", 120),
        ("diastolic", 80),
        ("bp_pulse", 70),
    ]


def test_skipped_readings() -> None:
    assert observe(glucose(at(0), 50, control=True), None) == []
    assert observe(hr(at(0), 80, contact=False), None) == []
    assert observe(strip(at(0), 2), None) == []  # no analyser available


def test_ecg_strip_spans_its_duration_and_noisy_is_nan() -> None:
    good = observe(strip(at(0), 2, seconds=30), fake_analyze)
    assert {o.observable for o in good} == {"ecg_af", "ecg_pause", "heart_rate"}
    assert all((o.end - o.start).total_seconds() == 30 for o in good)
    noisy = observe(strip(at(0), 3), fake_analyze)
    assert {o.observable for o in noisy} == {"ecg_af", "ecg_pause"}
    assert all(math.isnan(o.value) for o in noisy)
