"""One call for the rule engine: :func:`analyze` an ECG strip into an :class:`EcgAnalysis`.

Rule thresholds (brady/tachy/pause/AF alerting) live in the rule engine; only the detection
parameters of pauses and AF windows are here, with documented defaults.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .af import is_af
from .beats import detect
from .quality import Quality, overall_quality, segment_bounds, segment_quality
from .rank import median
from .rr import rate_extremes, rr_intervals

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: RR at or above this (s) is reported as a pause (research/clinical.md §2.3: ≥ 3 s).
PAUSE_THRESHOLD_S = 3.0
#: AF is screened in windows of this length (AF episode definition ≥ 30 s, §2.3).
AF_WINDOW_S = 30.0
#: Sliding window for min/max heart rate.
RATE_WINDOW_S = 10.0


@dataclass(frozen=True)
class EcgAnalysis:
    fs: float
    duration_s: float
    beats: IntArray  # sample indices
    rr_s: FloatArray
    hr_bpm: float | None  # 60 / median RR
    min_hr_bpm: float | None  # over sliding RATE_WINDOW_S windows (good segments only)
    max_hr_bpm: float | None
    quality: Quality
    segment_quality: tuple[Quality, ...]  # per quality.SEGMENT_S segment
    af_suspected: bool  # only ever True when quality is GOOD
    af_windows: tuple[tuple[float, float], ...]  # (start_s, duration_s) windows flagged AF
    pauses: tuple[tuple[float, float], ...]  # (start_s, duration_s), only when quality is GOOD


def analyze(
    signal_mV: npt.ArrayLike,
    fs: float,
    *,
    pause_threshold_s: float = PAUSE_THRESHOLD_S,
    af_window_s: float = AF_WINDOW_S,
) -> EcgAnalysis:
    """Beats, rate, quality, pauses and the possible-AF screen of one strip.

    Noise never raises a finding: AF windows and pauses are searched only inside segments of
    good quality, and only reported when the strip as a whole is good.
    """
    x = np.asarray(signal_mV, dtype=np.float64).ravel()
    det = detect(x, fs)
    beats = det.beats
    duration = x.size / fs
    bounds = segment_bounds(x.size, fs)
    seg_q = segment_quality(x, fs, det.qrs_band, det.working_fs, beats)
    quality = overall_quality(seg_q, duration)
    rr = rr_intervals(beats, fs)
    hr = 60.0 / median(rr) if rr.size >= 2 else None

    good = np.zeros(x.size, dtype=bool)
    for (a, b), q in zip(bounds, seg_q, strict=True):
        good[a:b] = q is Quality.GOOD
    # an RR interval is trusted when both its beats and all samples between are good
    cum_bad = np.concatenate(([0], np.cumsum(~good)))
    rr_good = (cum_bad[beats[1:] + 1] - cum_bad[beats[:-1]]) == 0 if rr.size else np.zeros(0, bool)

    beats_s = beats / fs
    lo_hr, hi_hr = _rate_extremes_good(beats_s, rr_good)
    pauses: tuple[tuple[float, float], ...] = ()
    af_windows: tuple[tuple[float, float], ...] = ()
    if quality is Quality.GOOD:
        idx = np.flatnonzero(rr_good & (rr >= pause_threshold_s))
        pauses = tuple((float(beats_s[i]), float(rr[i])) for i in idx)
        af_windows = _af_windows(beats_s, rr, rr_good, duration, af_window_s)
    return EcgAnalysis(
        fs=float(fs),
        duration_s=duration,
        beats=beats,
        rr_s=rr,
        hr_bpm=hr,
        min_hr_bpm=lo_hr,
        max_hr_bpm=hi_hr,
        quality=quality,
        segment_quality=tuple(seg_q),
        af_suspected=bool(af_windows),
        af_windows=af_windows,
        pauses=pauses,
    )


def _rate_extremes_good(
    beats_s: FloatArray, rr_good: npt.NDArray[np.bool_]
) -> tuple[float | None, float | None]:
    """Min/max rate over runs of trusted RR intervals."""
    lows: list[float] = []
    highs: list[float] = []
    if rr_good.size:
        edges = np.flatnonzero(np.diff(np.concatenate(([0], rr_good.astype(np.int8), [0]))))
        for a, b in zip(edges[0::2], edges[1::2], strict=True):
            lo, hi = rate_extremes(beats_s[a : b + 1], RATE_WINDOW_S)
            if lo is not None and hi is not None:
                lows.append(lo)
                highs.append(hi)
    return (min(lows), max(highs)) if lows else (None, None)


def _af_windows(
    beats_s: FloatArray,
    rr: FloatArray,
    rr_good: npt.NDArray[np.bool_],
    duration: float,
    window_s: float,
) -> tuple[tuple[float, float], ...]:
    """Consecutive windows of ``window_s`` (a short strip is one window); a window is only
    screened when all its RR intervals are trusted."""
    if duration < 1.5 * window_s:
        starts = [0.0]
        lengths = [duration]
    else:
        n = int(duration // window_s)
        starts = [i * window_s for i in range(n)]
        lengths = [window_s] * n
        lengths[-1] = duration - starts[-1]  # remainder joins the last window
    found = []
    for start, length in zip(starts, lengths, strict=True):
        sel = (beats_s[:-1] >= start) & (beats_s[1:] <= start + length)
        if not sel.any() or not rr_good[sel].all():
            continue
        if is_af(rr[sel]):
            found.append((start, length))
    return tuple(found)
