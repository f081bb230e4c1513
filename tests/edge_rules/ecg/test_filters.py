"""filters.py against the scipy functions it replaces (scipy only in tests)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage
from scipy import signal as sps

from edge_rules.ecg.filters import running_max, running_median, zero_phase_bandpass

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("size", [1, 2, 3, 4, 7, 9, 51])
@pytest.mark.parametrize("n", [1, 5, 9, 100, 1001])
def test_running_max_and_median_match_ndimage(size: int, n: int) -> None:
    rng = np.random.default_rng(size * 1000 + n)
    x = rng.normal(size=n).round(1)  # ties, as plateaus in the energy signal
    np.testing.assert_array_equal(
        running_max(x, size), ndimage.maximum_filter1d(x, size=size, mode="nearest")
    )
    if size <= n:
        np.testing.assert_array_equal(
            running_median(x, size), ndimage.median_filter(x, size=size, mode="nearest")
        )


@pytest.mark.parametrize("fs", [125.0, 130.0, 360.0])
def test_zero_phase_bandpass_matches_scipy_forward_backward(fs: float) -> None:
    rng = np.random.default_rng(3)
    x = np.cumsum(rng.normal(size=5000)) * 0.02 + rng.normal(size=5000)
    sos = sps.butter(2, (5.0, 22.0), btype="bandpass", fs=fs, output="sos")
    zi = sps.sosfilt_zi(sos)
    y, _ = sps.sosfilt(sos, x, zi=zi * x[0])
    y = y[::-1]
    y, _ = sps.sosfilt(sos, y, zi=zi * y[0])
    np.testing.assert_allclose(zero_phase_bandpass(x, fs), y[::-1], atol=1e-10)


def test_importing_the_analyser_does_not_import_scipy() -> None:
    code = (
        "import sys, numpy as np, edge_rules.ecg as e\n"
        "e.analyze(np.sin(np.arange(3900) / 5.0), 130)\n"
        "print(sorted(m for m in sys.modules if m == 'scipy' or m.startswith('scipy.')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
