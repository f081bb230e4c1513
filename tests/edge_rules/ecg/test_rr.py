import numpy as np

from edge_rules.ecg.rr import ectopic_mask, pauses, rate_extremes, rr_intervals


def test_rr_intervals_in_seconds() -> None:
    assert np.allclose(rr_intervals(np.array([0, 250, 500, 800]), 250.0), [1.0, 1.0, 1.2])
    assert rr_intervals(np.array([3]), 250.0).size == 0


def test_ectopic_mask_drops_premature_and_compensatory_pair() -> None:
    rr = np.full(20, 0.8)
    rr[8], rr[9] = 0.5, 1.1
    rr[15] = 0.1  # implausible: an extra detection splitting an interval, drop the rest too
    assert np.flatnonzero(ectopic_mask(rr)).tolist() == [8, 9, 15, 16]
    assert not ectopic_mask(np.full(20, 0.8)).any()


def test_pauses() -> None:
    beats = np.array([0.0, 1.0, 2.0, 5.5, 6.5, 9.5])
    assert pauses(beats, 3.0) == ((2.0, 3.5), (6.5, 3.0))
    assert pauses(beats, 4.0) == ()


def test_rate_extremes_over_sliding_windows() -> None:
    beats = np.concatenate((np.arange(0, 30, 1.0), 30 + np.arange(0, 30, 0.5)))  # 60 → 120 bpm
    lo, hi = rate_extremes(beats, 10.0)
    assert lo is not None and hi is not None
    assert abs(lo - 60) < 1 and abs(hi - 120) < 1
    assert rate_extremes(beats[:5], 10.0) == (None, None)
