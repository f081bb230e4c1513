"""Order statistics: the same answers as numpy's, without importing numpy.ma."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from edge_rules.ecg.rank import median, percentile, unique


@settings(max_examples=200, deadline=None)
@given(arrays(np.int64, st.integers(0, 60), elements=st.integers(-5, 5)))
def test_unique_matches_numpy(values: np.ndarray) -> None:
    got = unique(values)
    assert got.dtype == values.dtype
    np.testing.assert_array_equal(got, np.unique(values))


@settings(max_examples=500, deadline=None)
@given(
    arrays(np.float64, st.integers(1, 80),
           elements=st.floats(-1e6, 1e6, allow_nan=False) | st.sampled_from([0.0, 1.5, -2.25])),
    st.sampled_from([0.0, 1.0, 50.0, 75.0, 99.0, 99.5, 100.0]) | st.floats(0, 100),
)
def test_percentile_is_numpys_bit_for_bit(values: np.ndarray, q: float) -> None:
    assert percentile(values, q) == float(np.percentile(values, q))


@settings(max_examples=500, deadline=None)
@given(arrays(np.float64, st.integers(1, 80),
              elements=st.floats(-1e6, 1e6, allow_nan=False) | st.sampled_from([0.0, 0.1, 0.7])))
def test_median_is_numpys_bit_for_bit(values: np.ndarray) -> None:
    assert median(values) == float(np.median(values))


def test_median_of_integers_nan_and_empty() -> None:
    assert median(np.array([4, 1, 2, 3])) == float(np.median([4, 1, 2, 3])) == 2.5
    assert np.isnan(median(np.array([1.0, np.nan])))
    with pytest.raises(ValueError, match="empty"):
        median(np.array([]))


def test_percentile_of_integers_and_nan() -> None:
    assert percentile(np.array([3, 1, 2]), 75) == float(np.percentile([3, 1, 2], 75)) == 2.5
    assert np.isnan(percentile(np.array([1.0, np.nan, 2.0]), 50))


def test_percentile_rejects_empty_input_and_bad_q() -> None:
    with pytest.raises(ValueError, match="empty"):
        percentile(np.array([]), 50)
    with pytest.raises(ValueError, match="0, 100"):
        percentile(np.array([1.0]), 101)


def test_strip_analysis_does_not_import_numpy_ma() -> None:
    # np.unique, np.percentile and np.median import numpy.ma (~1 MB); the gateway runs
    # this on every ECG strip.
    code = (
        "import sys, numpy as np\n"
        "from edge_rules.ecg import analyze\n"
        "t = np.arange(3900) / 130.0\n"
        "x = np.exp(-((t % 0.85) - 0.2) ** 2 / 0.0004)\n"
        "assert analyze(x, 130.0).hr_bpm is not None\n"
        "print('numpy.ma' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
