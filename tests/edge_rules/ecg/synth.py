"""Synthetic ECG for the ECG tests: Gaussian P-QRS-T waves at known beat times."""

from __future__ import annotations

import numpy as np

# (offset s, amplitude mV, width s) of the waves relative to the R peak
WAVES = (
    (-0.16, 0.12, 0.025),  # P
    (-0.025, -0.10, 0.010),  # Q
    (0.0, 1.0, 0.012),  # R
    (0.03, -0.20, 0.012),  # S
    (0.28, 0.30, 0.045),  # T
)


def ecg(
    beat_times_s: np.ndarray,
    fs: float,
    duration_s: float,
    noise_mv: float = 0.01,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """(signal in mV, R-peak sample indices) for beats at ``beat_times_s``."""
    n = int(duration_s * fs)
    t = np.arange(n) / fs
    x = np.zeros(n)
    for bt in beat_times_s:
        for off, amp, width in WAVES:
            centre = bt + off
            lo, hi = np.searchsorted(t, [centre - 5 * width, centre + 5 * width])
            x[lo:hi] += amp * np.exp(-0.5 * ((t[lo:hi] - centre) / width) ** 2)
    rng = np.random.default_rng(seed)
    x += 0.1 * np.sin(2 * np.pi * 0.25 * t) + rng.normal(0, noise_mv, n)
    return x, np.round(np.asarray(beat_times_s) * fs).astype(np.int64)


def regular_beats(rr_s: float, duration_s: float, start_s: float = 0.5) -> np.ndarray:
    return np.arange(start_s, duration_s - 0.5, rr_s)


def af_beats(duration_s: float, seed: int = 1) -> np.ndarray:
    """Irregularly irregular RR (uniform 0.4–1.1 s), like AF with a ventricular rate ~ 80."""
    rng = np.random.default_rng(seed)
    rr = rng.uniform(0.4, 1.1, int(duration_s / 0.4))
    times = 0.5 + np.concatenate(([0.0], np.cumsum(rr)))
    return times[times < duration_s - 0.5]
