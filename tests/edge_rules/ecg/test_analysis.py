import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from edge_rules.ecg import EcgAnalysis, Quality, analyze
from tests.edge_rules.ecg.synth import af_beats, ecg, regular_beats

FS = 250.0


def test_clean_regular_strip() -> None:
    sig, truth = ecg(regular_beats(0.75, 60.0), FS, 60.0)
    a = analyze(sig, FS)
    assert a.quality is Quality.GOOD
    assert a.hr_bpm is not None and abs(a.hr_bpm - 80.0) < 1.0
    assert a.min_hr_bpm is not None and a.max_hr_bpm is not None
    assert 78 < a.min_hr_bpm <= a.max_hr_bpm < 82
    assert a.beats.size == truth.size
    assert a.rr_s.size == truth.size - 1
    assert not a.af_suspected
    assert a.pauses == ()
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.hr_bpm = 1.0  # type: ignore[misc]
    assert isinstance(a, EcgAnalysis)


def test_pause_of_3_5_s_is_found() -> None:
    first = np.arange(0.5, 19.0, 0.8)
    times = np.concatenate((first, first[-1] + 3.5 + np.arange(0.0, 20.0, 0.8)))
    sig, _ = ecg(times, FS, 45.0)
    a = analyze(sig, FS)
    assert a.quality is Quality.GOOD
    assert len(a.pauses) == 1
    start, duration = a.pauses[0]
    assert abs(start - first[-1]) < 0.05
    assert abs(duration - 3.5) < 0.05
    assert analyze(sig, FS, pause_threshold_s=4.0).pauses == ()


def test_irregular_rhythm_is_flagged() -> None:
    sig, _ = ecg(af_beats(60.0), FS, 60.0)
    a = analyze(sig, FS)
    assert a.quality is Quality.GOOD
    assert a.af_suspected
    assert a.af_windows


def test_flat_line_is_lead_off() -> None:
    a = analyze(np.zeros(int(30 * FS)), FS)
    assert a.quality is Quality.LEAD_OFF
    assert a.hr_bpm is None and not a.af_suspected and a.pauses == ()


def test_saturated_signal_is_lead_off() -> None:
    sig, _ = ecg(regular_beats(0.8, 30.0), FS, 30.0)
    clipped = np.clip(sig * 40, -5.0, 5.0)  # amplifier railing
    assert analyze(clipped, FS).quality is Quality.LEAD_OFF


def test_noise_is_noisy_and_never_af_or_pause() -> None:
    rng = np.random.default_rng(11)
    sig, _ = ecg(af_beats(60.0), FS, 60.0)
    noisy = sig + rng.normal(0, 0.6, sig.size)  # heavy EMG-like noise over an AF-like strip
    a = analyze(noisy, FS)
    assert a.quality is Quality.NOISY
    assert not a.af_suspected and a.af_windows == () and a.pauses == ()
    pure = analyze(rng.normal(0, 0.5, int(60 * FS)), FS)
    assert pure.quality is Quality.NOISY
    assert not pure.af_suspected and pure.pauses == ()


def test_large_baseline_wander_is_noisy() -> None:
    sig, _ = ecg(regular_beats(0.8, 40.0), FS, 40.0)
    t = np.arange(sig.size) / FS
    assert analyze(sig + 4.0 * np.sin(2 * np.pi * 0.1 * t), FS).quality is Quality.NOISY


def test_too_short() -> None:
    sig, _ = ecg(regular_beats(0.8, 3.0), FS, 3.0)
    a = analyze(sig, FS)
    assert a.quality is Quality.TOO_SHORT
    assert not a.af_suspected


@settings(max_examples=25, deadline=None)
@given(
    x=arrays(
        np.float64,
        st.integers(0, 4000),
        elements=st.floats(-10, 10, allow_nan=False, allow_infinity=False),
    ),
    fs=st.sampled_from([130.0, 250.0, 360.0]),
)
def test_property_findings_only_on_good_quality(x: np.ndarray, fs: float) -> None:
    a = analyze(x, fs)
    assert a.beats.size == 0 or a.beats[-1] < x.size
    if a.quality is not Quality.GOOD:
        assert not a.af_suspected and a.pauses == () and a.af_windows == ()
