"""QRS (beat) detection: band-pass → slope energy → adaptive, non-causal thresholds.

Outline (all thresholds are relative, so the detector is gain-free and works at any ``fs``):

1. Decimate to ≈125 Hz, band-pass 5–22 Hz forward–backward (zero phase).
2. Slope energy: squared first difference, integrated over a 100 ms centered window.
3. Candidates: local maxima of the energy, at most one per 200 ms refractory window
   (the larger one wins).
4. Local QRS level: median, over ±6 s of signal, of the per-1.5-s block maxima of the
   energy — robust to isolated artefacts and to varying amplitude along a record.
   A candidate is a beat when its energy exceeds ``THRESHOLD`` × level.
5. T-wave discrimination: a beat 200–360 ms after the previous one whose peak slope is below
   half of the previous beat's is a T wave (Pan & Tompkins 1985 rule).
6. Search-back: where an RR interval exceeds 1.6× the local median RR, the strongest
   candidate above ``SEARCHBACK_THRESHOLD`` × level inside the gap (and ≥ 250 ms from both
   neighbours) is accepted as a missed beat.
7. Position: the largest absolute band-passed deflection near the energy peak, refined to the
   full-rate sample of largest deviation from the local mean.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .filters import (
    block_mean,
    decimation_factor,
    moving_sum,
    running_max,
    running_median,
    zero_phase_bandpass,
)
from .rank import unique

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

REFRACTORY_S = 0.20
T_WAVE_WINDOW_S = 0.36
INTEGRATION_S = 0.10
LEVEL_BLOCK_S = 1.5
LEVEL_SPAN_BLOCKS = 9
THRESHOLD = 0.12
SEARCHBACK_THRESHOLD = 0.04
SEARCHBACK_RR_FACTOR = 1.6


@dataclass(frozen=True)
class Detection:
    """Detector output plus the intermediate signal that quality checks reuse."""

    beats: IntArray  # full-rate sample indices
    qrs_band: FloatArray  # band-passed signal at the working rate
    working_fs: float


def detect_beats(signal_mV: npt.ArrayLike, fs: float) -> IntArray:
    """Sample indices (into ``signal_mV``) of detected QRS complexes, sorted, int64.

    Raises ``ValueError`` for a non-positive ``fs`` or non-finite samples.
    """
    return detect(signal_mV, fs).beats


def detect(signal_mV: npt.ArrayLike, fs: float) -> Detection:
    x = np.asarray(signal_mV, dtype=np.float64).ravel()
    if not np.isfinite(fs) or fs <= 0:
        raise ValueError(f"sampling rate must be a positive number, got {fs!r}")
    if not np.all(np.isfinite(x)):
        raise ValueError("signal contains NaN or infinite samples")
    q = decimation_factor(fs)
    fsd = fs / q
    xd = block_mean(x, q)
    none = np.zeros(0, dtype=np.int64)
    if xd.size < max(int(fsd), 16):  # under one second: nothing meaningful to detect
        return Detection(none, np.zeros(xd.size), fsd)
    bp = zero_phase_bandpass(xd, fsd)
    slope = np.diff(bp, prepend=bp[0])
    energy = moving_sum(slope * slope, round(INTEGRATION_S * fsd))
    cand = _candidates(energy, round(REFRACTORY_S * fsd))
    if cand.size == 0:
        return Detection(none, bp, fsd)
    level = _local_level(energy, fsd)[cand]
    height = energy[cand]
    beats = cand[height > THRESHOLD * level]
    beats = _reject_t_waves(beats, energy, round(T_WAVE_WINDOW_S * fsd))
    beats = _search_back(beats, cand, height / np.maximum(level, 1e-30), fsd)
    return Detection(_localize(x, bp, beats, q, fsd), bp, fsd)


def _candidates(energy: FloatArray, refractory: int) -> IntArray:
    """Local maxima that are the largest value within ±refractory samples."""
    peak = running_max(energy, 2 * refractory + 1)
    idx = np.flatnonzero((energy == peak) & (energy > 0))
    if idx.size > 1:  # plateaus: keep the first sample of each run
        idx = idx[np.concatenate(([True], np.diff(idx) > refractory))]
    return idx.astype(np.int64)


def _local_level(energy: FloatArray, fsd: float) -> FloatArray:
    """Typical QRS energy around every sample (median of block maxima over ±6 s)."""
    block = min(max(1, round(LEVEL_BLOCK_S * fsd)), energy.size)
    nblk = max(1, energy.size // block)
    maxima = energy[: nblk * block].reshape(nblk, block).max(axis=1)
    if energy.size > nblk * block:
        maxima = np.append(maxima, energy[nblk * block :].max())
    smooth = running_median(maxima, min(LEVEL_SPAN_BLOCKS, maxima.size))
    centers = np.arange(smooth.size) * block + block / 2
    return np.asarray(np.interp(np.arange(energy.size), centers, smooth), dtype=np.float64)


def _reject_t_waves(beats: IntArray, energy: FloatArray, window: int) -> IntArray:
    if beats.size < 2:
        return beats
    keep = np.ones(beats.size, dtype=bool)
    h = energy[beats]
    close = np.flatnonzero(np.diff(beats) < window) + 1
    for i in close:  # few per record; sequential because a rejection changes "previous"
        j = i - 1
        while j >= 0 and not keep[j]:
            j -= 1
        if j >= 0 and beats[i] - beats[j] < window and h[i] < 0.5 * h[j]:
            keep[i] = False
    return beats[keep]


def _search_back(beats: IntArray, cand: IntArray, rel: FloatArray, fsd: float) -> IntArray:
    if beats.size < 3:
        return beats
    rr = np.diff(beats).astype(np.float64)
    med = running_median(rr, min(9, rr.size))
    gaps = np.flatnonzero(rr > SEARCHBACK_RR_FACTOR * med)
    if gaps.size == 0:
        return beats
    margin = round(0.25 * fsd)
    added: list[int] = []
    for g in gaps:
        lo, hi = beats[g] + margin, beats[g + 1] - margin
        a, b = np.searchsorted(cand, [lo, hi])
        if b <= a:
            continue
        k = a + int(np.argmax(rel[a:b]))
        if rel[k] > SEARCHBACK_THRESHOLD:
            added.append(int(cand[k]))
    if not added:
        return beats
    return np.sort(np.concatenate((beats, np.asarray(added, dtype=np.int64))))


def _localize(x: FloatArray, bp: FloatArray, beats: IntArray, q: int, fsd: float) -> IntArray:
    if beats.size == 0:
        return beats
    half = max(1, round(0.06 * fsd))
    offs = np.arange(-half, half + 1)
    idx = np.clip(beats[:, None] + offs[None, :], 0, bp.size - 1)
    coarse = idx[np.arange(beats.size), np.argmax(np.abs(bp[idx]), axis=1)]
    if q == 1:
        return unique(coarse)
    # refine at full rate: largest deviation from the window mean within ±q samples
    fine_off = np.arange(-2 * q, 3 * q)
    fidx = np.clip(coarse[:, None] * q + q // 2 + fine_off[None, :], 0, x.size - 1)
    seg = x[fidx]
    dev = np.abs(seg - seg.mean(axis=1, keepdims=True))
    return unique(fidx[np.arange(beats.size), np.argmax(dev, axis=1)]).astype(np.int64)

