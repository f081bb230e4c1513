"""Signal conditioning shared by beat detection and quality checks.

Everything here is vectorized numpy (no scipy: its import alone costs ~75 MB RSS, see
``iir.py``). Detection runs at a reduced rate (≈ 100–150 Hz):
QRS energy sits below ~ 25 Hz, so decimating first makes the filters ~3× cheaper at 360 Hz
without losing detection accuracy; beat positions are refined on the full-rate signal later.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt

from .iir import Zpk, butter, lfilter_zpk

FloatArray = npt.NDArray[np.float64]

#: Working rate for detection; the decimation factor is the integer that lands closest.
TARGET_FS = 125.0
#: QRS band (Hz). 5 Hz removes baseline wander and most P/T energy, 22 Hz most EMG/mains.
QRS_BAND = (5.0, 22.0)


def decimation_factor(fs: float) -> int:
    """Integer block size bringing ``fs`` near :data:`TARGET_FS` (1 for low rates)."""
    return max(1, round(fs / TARGET_FS))


def block_mean(x: FloatArray, q: int) -> FloatArray:
    """Decimate by averaging blocks of ``q`` samples (a cheap boxcar anti-alias filter)."""
    if q == 1:
        return x
    n = (x.size // q) * q
    return np.asarray(x[:n].reshape(-1, q).mean(axis=1), dtype=np.float64)


@lru_cache(maxsize=32)
def _bandpass(fs: float, low: float, high: float) -> Zpk:
    return butter(2, (low, min(high, 0.45 * fs)), "bandpass", fs)


def zero_phase_bandpass(
    x: FloatArray, fs: float, band: tuple[float, float] = QRS_BAND
) -> FloatArray:
    """Forward–backward Butterworth band-pass (zero phase, so peaks stay where the QRS is).

    Forward then backward pass, each started in the steady state for its first sample (what
    ``sosfilt(sos, x, zi=sosfilt_zi(sos) * x[0])`` does), no padded copies.
    """
    design = _bandpass(float(fs), band[0], band[1])
    y = lfilter_zpk(design, x, steady_start=True)[::-1]
    y = lfilter_zpk(design, y, steady_start=True)
    return np.asarray(y[::-1], dtype=np.float64)


def moving_sum(x: FloatArray, width: int) -> FloatArray:
    """Centered moving sum over ``width`` samples (cumulative-sum trick, O(n))."""
    width = max(1, int(width))
    c = np.concatenate(([0.0], np.cumsum(x)))
    half = width // 2
    idx = np.arange(x.size)
    lo = np.clip(idx - half, 0, x.size)
    hi = np.clip(idx - half + width, 0, x.size)
    return np.asarray(c[hi] - c[lo], dtype=np.float64)


def running_max(x: FloatArray, size: int) -> FloatArray:
    """Centred running maximum over ``size`` samples, edges repeated.

    Same as ``scipy.ndimage.maximum_filter1d(x, size, mode="nearest")``; van Herk / Gil–Werman:
    prefix and suffix maxima over blocks of ``size``, O(n) whatever the window.
    """
    size = max(1, int(size))
    if size == 1 or x.size == 0:
        return x.copy()
    left = size // 2
    padded = np.concatenate((np.full(left, x[0]), x, np.full(size - 1 - left, x[-1])))
    blocks = -(-padded.size // size)
    full = np.full(blocks * size, -np.inf)
    full[: padded.size] = padded
    grid = full.reshape(blocks, size)
    prefix = np.maximum.accumulate(grid, axis=1).ravel()
    suffix = np.maximum.accumulate(grid[:, ::-1], axis=1)[:, ::-1].ravel()
    i = np.arange(x.size)
    return np.asarray(np.maximum(suffix[i], prefix[i + size - 1]), dtype=np.float64)


def running_median(x: FloatArray, size: int) -> FloatArray:
    """Running median like ``scipy.ndimage.median_filter(x, size, mode="nearest")``.

    For even ``size`` that is the upper of the two middle values over
    ``x[i − size//2 : i + size − size//2]``, as ndimage does. Meant for short series (block
    maxima, RR intervals): the window view costs O(n·size).
    """
    size = max(1, int(size))
    if size == 1 or x.size == 0:
        return x.copy()
    left = size // 2
    padded = np.concatenate((np.full(left, x[0]), x, np.full(size - 1 - left, x[-1])))
    windows = np.lib.stride_tricks.sliding_window_view(padded, size)
    return np.asarray(np.partition(windows, left, axis=1)[:, left], dtype=np.float64)
