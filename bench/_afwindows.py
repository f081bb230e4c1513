"""MIT-BIH 30-s rhythm windows for the AF screen (used by bench.ecg and bench.ecg_affit)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._ecgdata import Record

WINDOW_S = 30.0


@dataclass(frozen=True)
class Window:
    record: str
    start: int  # sample
    stop: int
    af: bool  # > 50 % of the window inside an (AFIB episode
    ref_rr_s: np.ndarray  # from reference beat annotations


def af_mask(rec: Record) -> np.ndarray:
    n = rec.signal_mv.size
    mask = np.zeros(n, dtype=bool)
    starts = [*list(rec.rhythm_samples), n]
    for k, label in enumerate(rec.rhythm_labels):
        if label.startswith("(AFIB"):
            mask[starts[k] : starts[k + 1]] = True
    return mask


def windows(rec: Record, window_s: float = WINDOW_S) -> list[Window]:
    mask = af_mask(rec)
    w = int(window_s * rec.fs)
    out = []
    for start in range(0, rec.signal_mv.size - w + 1, w):
        b = rec.beat_samples[(rec.beat_samples >= start) & (rec.beat_samples < start + w)]
        out.append(
            Window(
                record=rec.name,
                start=start,
                stop=start + w,
                af=bool(mask[start : start + w].mean() > 0.5),
                ref_rr_s=np.diff(b) / rec.fs,
            )
        )
    return out
