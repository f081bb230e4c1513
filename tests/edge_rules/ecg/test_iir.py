"""The numpy Butterworth design and IIR filter against scipy.signal (scipy only in tests)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal as sps

from edge_rules.ecg.iir import butter, lfilter_zpk

# every design the analyser uses: detector band at working rates, quality filters at device rates
DESIGNS = [
    ((5.0, 22.0), "bandpass", 120.0),
    ((5.0, 22.0), "bandpass", 125.0),
    ((5.0, 22.0), "bandpass", 130.0),
    ((5.0, 22.0), "bandpass", 150.0),
    ((1.0, 40.0), "bandpass", 130.0),
    ((1.0, 40.0), "bandpass", 360.0),
    (40.0, "highpass", 100.0),
    (40.0, "highpass", 360.0),
    (0.7, "lowpass", 130.0),
    (0.7, "lowpass", 360.0),
]


def _signal(n: int = 20_000) -> np.ndarray:
    rng = np.random.default_rng(7)
    return np.cumsum(rng.normal(size=n)) * 0.01 + rng.normal(size=n) + 3.0


@pytest.mark.parametrize(("cutoff", "kind", "fs"), DESIGNS)
def test_design_matches_scipy_butter(cutoff: object, kind: str, fs: float) -> None:
    ours = butter(2, cutoff, kind, fs)  # type: ignore[arg-type]
    z, p, k = sps.butter(2, cutoff, btype=kind, fs=fs, output="zpk")
    np.testing.assert_allclose(np.sort_complex(ours.poles), np.sort_complex(p), atol=1e-12)
    np.testing.assert_allclose(np.sort_complex(ours.zeros), np.sort_complex(z), atol=1e-12)
    assert ours.gain == pytest.approx(k, rel=1e-12)


@pytest.mark.parametrize(("cutoff", "kind", "fs"), DESIGNS)
def test_filter_matches_sosfilt(cutoff: object, kind: str, fs: float) -> None:
    x = _signal()
    sos = sps.butter(2, cutoff, btype=kind, fs=fs, output="sos")
    design = butter(2, cutoff, kind, fs)  # type: ignore[arg-type]
    cold = sps.sosfilt(sos, x)
    warm, _ = sps.sosfilt(sos, x, zi=sps.sosfilt_zi(sos) * x[0])
    scale = np.abs(x).max()
    np.testing.assert_allclose(lfilter_zpk(design, x), cold, atol=1e-10 * scale)
    np.testing.assert_allclose(lfilter_zpk(design, x, steady_start=True), warm, atol=1e-10 * scale)


@pytest.mark.parametrize("n", [1, 2, 15, 16, 17, 1000])
def test_short_and_odd_lengths(n: int) -> None:
    x = _signal(n)
    sos = sps.butter(2, (5.0, 22.0), btype="bandpass", fs=125.0, output="sos")
    warm, _ = sps.sosfilt(sos, x, zi=sps.sosfilt_zi(sos) * x[0])
    got = lfilter_zpk(butter(2, (5.0, 22.0), "bandpass", 125.0), x, steady_start=True)
    np.testing.assert_allclose(got, warm, atol=1e-10 * np.abs(x).max())


def test_rejects_cutoff_above_nyquist() -> None:
    with pytest.raises(ValueError, match="invalid Butterworth"):
        butter(2, 70.0, "lowpass", 130.0)
