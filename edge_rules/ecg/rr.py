"""RR-interval helpers: intervals, ectopic-beat rejection, rate over sliding windows, pauses.

They work on RR series from any source (our beats, or RR intervals a strap such as the Polar
H10 reports itself).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .rank import median, percentile

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: RR outside this range (s) cannot be a conducted beat pair (300 bpm … 20 bpm): artefact.
PLAUSIBLE_RR_S = (0.2, 3.0)
#: A premature beat: RR shorter than this fraction of the window's 75th-percentile RR.
#: (The 75th percentile stays on the dominant rhythm even when a third of beats are ectopic.)
PREMATURE_FRACTION = 0.8


def rr_intervals(beats: npt.ArrayLike, fs: float) -> FloatArray:
    """Successive beat-to-beat intervals in seconds."""
    b = np.asarray(beats, dtype=np.float64)
    return np.diff(b) / fs if b.size > 1 else np.zeros(0)


def ectopic_mask(rr: FloatArray) -> BoolArray:
    """RR intervals to drop before rhythm analysis of one window.

    Drops implausible intervals, every premature interval (< :data:`PREMATURE_FRACTION` ×
    the window's 75th-percentile RR) and the interval after each (the compensatory pause of
    a PAC/PVC, or the rest of an interval split by a false detection).
    """
    bad = (rr < PLAUSIBLE_RR_S[0]) | (rr > PLAUSIBLE_RR_S[1])
    if rr.size - np.count_nonzero(bad) < 3:
        return np.asarray(bad)
    reference = percentile(rr[~bad], 75)
    premature = rr < PREMATURE_FRACTION * reference
    drop = bad | premature
    drop[1:] |= premature[:-1]
    return np.asarray(drop)


def rate_extremes(beats_s: FloatArray, window_s: float = 10.0) -> tuple[float | None, float | None]:
    """(min, max) heart rate in bpm over sliding windows of ``window_s`` seconds.

    Each window's rate is 60 / median RR of the beats inside it, so a single missed or extra
    beat does not create a false extreme. Windows slide by one beat.
    """
    if beats_s.size < 3 or beats_s[-1] - beats_s[0] < window_s:
        return None, None
    rr = np.diff(beats_s)
    ends = np.searchsorted(beats_s, beats_s + window_s, side="right") - 1
    valid = np.flatnonzero(ends < beats_s.size - 1)
    valid = valid[ends[valid] - valid >= 2]
    if valid.size == 0:
        return None, None
    # step by a few beats: median over each window is O(window) but windows are few
    step = max(1, valid.size // 2000)
    rates = [60.0 / median(rr[i : ends[i]]) for i in valid[::step]]
    return min(rates), max(rates)


def pauses(beats_s: FloatArray, threshold_s: float) -> tuple[tuple[float, float], ...]:
    """(start_s, duration_s) of every RR interval of at least ``threshold_s`` seconds."""
    if beats_s.size < 2:
        return ()
    rr = np.diff(beats_s)
    idx = np.flatnonzero(rr >= threshold_s)
    return tuple((float(beats_s[i]), float(rr[i])) for i in idx)
