"""Possible-AF screen from one window of RR intervals (research/clinical.md §2.3, rule 6).

AF makes the ventricular rhythm *irregularly irregular*: short RR patterns never repeat.
Sinus rhythm — even with strong sinus arrhythmia, frequent ectopic beats, bigeminy or
trigeminy — keeps repeating a few patterns. The screen therefore measures how often short
RR patterns recur (the correlation sum C_m(r) behind sample entropy, Richman & Moorman 2000;
the quantity COSEn builds on, Lake & Moorman 2011):

* ``recurrence_raw``   – C_4(7 %): mean fraction of other 4-interval patterns whose every
  interval lies within 7 % of the window's median RR; uncleaned series (keeps ectopic
  *patterns* such as bigeminy visible as recurring).
* ``recurrence_clean`` – C_2(7 %) after :func:`~edge_rules.ecg.rr.ectopic_mask` removed
  premature beats and the interval after each.

Both enter a logistic model. Its coefficients were **fitted on the MIT-BIH Arrhythmia
Database only** (procedure in :data:`COEFFICIENTS`); the CinC 2017 set is held out and never
used for fitting or model selection. The Dash et al. (2009) / pRR31 descriptors of research
§2.3 are computed too (``nrmssd``, ``tpr``, ``shannon``, ``prr31``) for display and rules,
but a logistic model on them reached only ≈ 90 % Se/Sp on MIT-BIH windows (frequent ectopy
looks irregular to them), so they do not drive the decision. A screening signal for
clinician review, never a diagnosis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .rank import median
from .rr import PLAUSIBLE_RR_S, ectopic_mask

FloatArray = npt.NDArray[np.float64]

#: Fewer plausible RR intervals than this: no decision (returns False).
MIN_RR = 8
#: Pattern tolerance as a fraction of the window's median RR.
TOLERANCE = 0.07
RAW_DIMENSION = 4
CLEAN_DIMENSION = 2

# Logistic model  p(AF) = 1 / (1 + exp(-(b0 + b1·z1 + b2·z2))),  z_k = (f_k - MEAN_k) / SCALE_k,
# f = (ln(recurrence_raw + 0.01), ln(recurrence_clean + 0.01)).
# Fitted by `python -m bench.ecg_affit` on all 48 MIT-BIH Arrhythmia DB records cut into
# non-overlapping 30-s windows (RR from the reference beat annotations; label AF when > 50 %
# of the window lies in an `(AFIB` episode; 2 877 windows, 268 AF): L2-regularised (λ = 1e-2)
# Newton iterations; DECISION = probability cut maximising min(Se, Sp) on those windows.
# Feature/dimension/tolerance were chosen among C_m(r), m ∈ {2, 3, 4}, r ∈ {3, 5, 7, 10} %
# and the Dash/pRR31 set on the same MIT-BIH windows (leave-one-record-out check printed by
# the fit script). In-sample Se 95.1 % / Sp 95.4 %; leave-one-record-out 94.8 % / 94.9 %.
# CinC 2017 was never used.
MEAN = (-1.698, -0.699)
SCALE = (1.447, 0.764)
COEFFICIENTS = (-4.438, -1.407, -1.184)
DECISION = 0.24


@dataclass(frozen=True)
class AfFeatures:
    recurrence_raw: float
    recurrence_clean: float
    nrmssd: float  # RMSSD / mean RR of the cleaned series (Dash 2009)
    tpr: float  # turning-point ratio (≈ 2/3 for a random series)
    shannon: float  # 16-bin RR histogram entropy, normalised to [0, 1]
    prr31: float  # fraction of successive differences ≥ 31 ms
    n_rr: int  # plausible intervals in the window

    def vector(self) -> tuple[float, float]:
        return (math.log(self.recurrence_raw + 0.01), math.log(self.recurrence_clean + 0.01))


def recurrence(rr: FloatArray, dimension: int, tolerance: float) -> float:
    """C_m(r): mean fraction of other m-interval patterns within ``tolerance`` × median RR."""
    n = rr.size - dimension + 1
    if n < 2:
        return 1.0
    r = tolerance * median(rr)
    dist = np.zeros((n, n))
    for k in range(dimension):
        seg = rr[k : k + n]
        np.maximum(dist, np.abs(seg[:, None] - seg[None, :]), out=dist)
    neighbours = np.count_nonzero(dist < r, axis=1) - 1
    return float(neighbours.mean()) / (n - 1)


def af_features(rr_seconds: npt.ArrayLike) -> AfFeatures | None:
    """Features of one RR window (s), or None with fewer than :data:`MIN_RR` plausible RR."""
    rr = np.asarray(rr_seconds, dtype=np.float64).ravel()
    rr = rr[np.isfinite(rr)]
    rr = rr[(rr >= PLAUSIBLE_RR_S[0]) & (rr <= PLAUSIBLE_RR_S[1])]
    if rr.size < MIN_RR:
        return None
    clean = rr[~ectopic_mask(rr)]
    # Nearly every other beat premature (bigeminy-like): the window is dominated by one
    # ectopic pattern, i.e. maximally recurring. Descriptors then use the raw series.
    mostly_ectopic = clean.size < CLEAN_DIMENSION + 4
    rec_clean = 1.0 if mostly_ectopic else recurrence(clean, CLEAN_DIMENSION, TOLERANCE)
    if mostly_ectopic:
        clean = rr
    d = np.diff(clean)
    inner = clean[1:-1]
    turning = ((inner > clean[:-2]) & (inner > clean[2:])) | (
        (inner < clean[:-2]) & (inner < clean[2:])
    )
    hist, _ = np.histogram(clean, bins=16)
    p = hist[hist > 0] / clean.size
    return AfFeatures(
        recurrence_raw=recurrence(rr, RAW_DIMENSION, TOLERANCE),
        recurrence_clean=rec_clean,
        nrmssd=float(np.sqrt(np.mean(d * d))) / float(clean.mean()),
        tpr=float(turning.mean()) if inner.size else 0.0,
        shannon=float(-(p * np.log(p)).sum() / math.log(16)),
        prr31=float(np.mean(np.abs(d) >= 0.031)),
        n_rr=int(rr.size),
    )


def af_probability(features: AfFeatures) -> float:
    z = [(f - m) / s for f, m, s in zip(features.vector(), MEAN, SCALE, strict=True)]
    logit = COEFFICIENTS[0] + sum(b * v for b, v in zip(COEFFICIENTS[1:], z, strict=True))
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, logit))))


def is_af(rr_seconds: npt.ArrayLike) -> bool:
    """True when one window of RR intervals (s; ~30 s, ≥ 8 intervals) looks like AF.

    Implausible intervals are dropped; ectopic beats are handled by the features (premature
    beats removed for one, ectopic patterns recognised as recurring by the other).
    """
    features = af_features(rr_seconds)
    return features is not None and af_probability(features) >= DECISION
