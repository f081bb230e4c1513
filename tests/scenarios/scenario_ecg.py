"""ECG analyser for the scenarios: the real one, or a tiny in-memory stand-in.

Threshold R-peak picking on the synthetic signal, a crude noise score and an RR-irregularity
flag — enough to drive the rule engine, not an ECG algorithm.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np


class Quality(Enum):
    GOOD = "good"
    NOISY = "noisy"


@dataclass(frozen=True)
class FakeAnalysis:
    hr_bpm: float | None
    quality: Quality
    af_suspected: bool
    pauses: tuple[tuple[float, float], ...]


def fake_analyze(signal_mv: Any, fs: float) -> FakeAnalysis:
    x = np.asarray(signal_mv, dtype=float)
    noise = float(np.median(np.abs(np.diff(x)))) * fs / 250.0
    if noise > 0.05:
        return FakeAnalysis(None, Quality.NOISY, False, ())
    peaks = [i for i in range(1, len(x) - 1) if x[i] > 0.6 and x[i] >= x[i - 1] and x[i] > x[i + 1]]
    rr = np.diff(peaks) / fs
    if len(rr) < 3:
        return FakeAnalysis(None, Quality.GOOD, False, ())
    irregular = float(np.sqrt(np.mean(np.diff(rr) ** 2)) / np.mean(rr)) > 0.1
    pauses = tuple((peaks[i] / fs, float(r)) for i, r in enumerate(rr) if r >= 3.0)
    return FakeAnalysis(60.0 / float(np.median(rr)), Quality.GOOD, irregular, pauses)


def _choose() -> Any:
    from edge_rules.observations import default_ecg_analyzer

    return default_ecg_analyzer() or fake_analyze


#: The analyser the scenarios run with: the real ``edge_rules.ecg.analyze`` when present.
analyzer = _choose()
