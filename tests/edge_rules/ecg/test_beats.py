from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from edge_rules.ecg import detect_beats
from tests.edge_rules.ecg.synth import af_beats, ecg, regular_beats

DATA = Path(__file__).resolve().parents[2] / "data" / "ecg"


def match(ref: np.ndarray, det: np.ndarray, tol: int) -> tuple[int, int]:
    """(true positives, false positives) with one-to-one matching within ±tol."""
    used = np.zeros(det.size, dtype=bool)
    tp = 0
    for r in ref:
        cand = np.flatnonzero((np.abs(det - r) <= tol) & ~used)
        if cand.size:
            used[cand[np.argmin(np.abs(det[cand] - r))]] = True
            tp += 1
    return tp, int((~used).sum())


@pytest.mark.parametrize("fs", [130.0, 250.0, 300.0, 360.0, 500.0])
def test_finds_every_synthetic_beat_at_any_rate(fs: float) -> None:
    sig, truth = ecg(regular_beats(0.8, 30.0), fs, 30.0)
    det = detect_beats(sig, fs)
    assert det.dtype == np.int64
    assert np.all(np.diff(det) > 0)
    tp, fp = match(truth, det, round(0.05 * fs))
    assert tp == truth.size
    assert fp == 0


def test_irregular_and_fast_rhythm() -> None:
    fs = 250.0
    times = np.concatenate((af_beats(30.0), 30.0 + regular_beats(0.35, 20.0)))  # then 171 bpm
    sig, truth = ecg(times, fs, 50.0)
    det = detect_beats(sig, fs)
    tp, fp = match(truth, det, round(0.05 * fs))
    assert tp >= truth.size - 1
    assert fp <= 1


def test_inverted_polarity() -> None:
    fs = 360.0
    sig, truth = ecg(regular_beats(0.9, 20.0), fs, 20.0)
    tp, fp = match(truth, detect_beats(-sig, fs), round(0.05 * fs))
    assert (tp, fp) == (truth.size, 0)


def test_real_mitdb_excerpt_with_ventricular_ectopy() -> None:
    # MIT-BIH record 208, 60 s from 300 s: 68 N, 28 V, 10 F beats (ODC-By 1.0, see README)
    sig = np.load(DATA / "mitdb_208_300s_60s.npy").astype(np.float64) / 200.0
    ref = np.loadtxt(
        DATA / "mitdb_208_300s_60s_beats.csv", delimiter=",", skiprows=1, usecols=0, dtype=np.int64
    )
    det = detect_beats(sig, 360.0)
    tp, fp = match(ref, det, round(0.15 * 360))
    assert tp / ref.size >= 0.98  # sensitivity
    assert tp / (tp + fp) >= 0.98  # positive predictivity


def test_flat_and_short_inputs_give_no_beats() -> None:
    assert detect_beats(np.zeros(3600), 360.0).size == 0
    assert detect_beats(np.zeros(10), 360.0).size == 0
    assert detect_beats(np.zeros(0), 130.0).size == 0


def test_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="NaN"):
        detect_beats(np.array([0.0, np.nan] * 500), 250.0)
    with pytest.raises(ValueError, match="sampling rate"):
        detect_beats(np.zeros(1000), 0.0)


@settings(max_examples=40, deadline=None)
@given(
    x=arrays(
        np.float64,
        st.integers(0, 3000),
        elements=st.floats(-20, 20, allow_nan=False, allow_infinity=False),
    ),
    fs=st.sampled_from([130.0, 250.0, 300.0, 360.0]),
)
def test_property_indices_sorted_unique_in_range(x: np.ndarray, fs: float) -> None:
    det = detect_beats(x, fs)
    assert det.dtype == np.int64
    assert np.all(np.diff(det) > 0)
    assert det.size == 0 or (det[0] >= 0 and det[-1] < x.size)

