"""RR-interval helpers: intervals, ectopic-beat rejection, rate over sliding windows, pauses."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import ndimage

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: RR outside this range (s) cannot be a conducted beat pair (300 bpm … 20 bpm): artefact.
PLAUSIBLE_RR_S = (0.2, 3.0)
#: A premature beat: RR shorter than this fraction of the local median RR …
PREMATURE_FRACTION = 0.85
#: … followed by a compensatory RR longer than this fraction of it.
COMPENSATORY_FRACTION = 1.10


def rr_intervals(beats: npt.ArrayLike, fs: float) -> FloatArray:
    """Successive beat-to-beat intervals in seconds."""
    b = np.asarray(beats, dtype=np.float64)
    return np.diff(b) / fs if b.size > 1 else np.zeros(0)


def local_median(rr: FloatArray, span: int = 9) -> FloatArray:
    if rr.size == 0:
        return rr
    return np.asarray(ndimage.median_filter(rr, size=min(span, rr.size), mode="nearest"))


def ectopic_mask(rr: FloatArray) -> BoolArray:
    """RR intervals to drop before rhythm analysis.

    Drops implausible intervals and, around each premature beat (short RR followed by a
    compensatory long RR, the classic PAC/PVC signature), both intervals of the pair.
    """
    bad = (rr < PLAUSIBLE_RR_S[0]) | (rr > PLAUSIBLE_RR_S[1])
    if rr.size < 3:
        return np.asarray(bad)
    med = local_median(rr)
    premature = np.zeros(rr.size, dtype=bool)
    premature[:-1] = (rr[:-1] < PREMATURE_FRACTION * med[:-1]) & (
        rr[1:] > COMPENSATORY_FRACTION * med[1:]
    )
    pair = premature.copy()
    pair[1:] |= premature[:-1]
    return np.asarray(bad | pair)


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
    rates = [60.0 / float(np.median(rr[i : ends[i]])) for i in valid[::step]]
    return min(rates), max(rates)


def pauses(beats_s: FloatArray, threshold_s: float) -> tuple[tuple[float, float], ...]:
    """(start_s, duration_s) of every RR interval of at least ``threshold_s`` seconds."""
    if beats_s.size < 2:
        return ()
    rr = np.diff(beats_s)
    idx = np.flatnonzero(rr >= threshold_s)
    return tuple((float(beats_s[i]), float(rr[i])) for i in idx)
