"""Order statistics of 1-D arrays, with the same results as numpy's.

``np.unique``, ``np.percentile`` (which calls ``np.unique``) and ``np.median`` import
``numpy.ma`` on first use in numpy 2.4: about 1 MB of resident memory for masked arrays
the analysis never uses, paid by the gateway at its first ECG strip (its budget is 60 MB
in all). These functions give numpy's results exactly (tests compare them on random input).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def unique(values: IntArray) -> IntArray:
    """Sorted distinct values, as ``np.unique(values)``."""
    ordered = np.sort(values)
    keep = np.ones(ordered.size, dtype=bool)
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def percentile(values: npt.ArrayLike, q: float) -> float:
    """``np.percentile(values, q)`` (its default, linear method) of a non-empty array."""
    ordered = np.sort(np.asarray(values, dtype=np.float64), axis=None)
    if ordered.size == 0:
        raise ValueError("percentile of an empty array")
    if not 0 <= q <= 100:
        raise ValueError("percentile must be in [0, 100]")
    if np.isnan(ordered[-1]):  # NaN sorts last; numpy's answer is NaN then
        return float("nan")
    virtual = (ordered.size - 1) * np.true_divide(q, 100)
    if virtual >= ordered.size - 1:
        return float(ordered[-1])
    below = int(np.floor(virtual))
    a, b = ordered[below], ordered[below + 1]
    gamma = virtual - below
    # numpy's _lerp: from the nearer end, so that gamma = 1 gives b exactly
    diff = b - a
    return float(b - diff * (1 - gamma) if gamma >= 0.5 else a + diff * gamma)


def median(values: npt.ArrayLike) -> float:
    """``np.median(values)`` of a non-empty array: the middle value, or the mean of the two."""
    ordered = np.sort(np.asarray(values, dtype=np.float64), axis=None)
    if ordered.size == 0:
        raise ValueError("median of an empty array")
    if np.isnan(ordered[-1]):
        return float("nan")
    half = ordered.size // 2
    if ordered.size % 2:
        return float(ordered[half])
    return float((ordered[half - 1] + ordered[half]) / 2)
