"""Signal conditioning shared by beat detection and quality checks.

Everything here is vectorized numpy/scipy. Detection runs at a reduced rate (≈ 100–150 Hz):
QRS energy sits below ~ 25 Hz, so decimating first makes the filters ~3× cheaper at 360 Hz
without losing detection accuracy; beat positions are refined on the full-rate signal later.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt
from scipy import signal as sps

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
def _bandpass_sos(fs: float, low: float, high: float) -> FloatArray:
    high = min(high, 0.45 * fs)
    return np.asarray(sps.butter(2, [low, high], btype="bandpass", fs=fs, output="sos"))


def zero_phase_bandpass(
    x: FloatArray, fs: float, band: tuple[float, float] = QRS_BAND
) -> FloatArray:
    """Forward–backward Butterworth band-pass (zero phase, so peaks stay where the QRS is).

    Hand-rolled forward/backward ``sosfilt`` with steady-state initial conditions: same result
    as ``sosfiltfilt`` for our purpose at a third of its cost (no padded copies).
    """
    sos = _bandpass_sos(float(fs), band[0], band[1])
    zi = sps.sosfilt_zi(sos)
    y, _ = sps.sosfilt(sos, x, zi=zi * x[0])
    y = y[::-1]
    y, _ = sps.sosfilt(sos, y, zi=zi * y[0])
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
