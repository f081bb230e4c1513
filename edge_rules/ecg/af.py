"""Possible-AF screen from one window of RR intervals (research/clinical.md §2.3, rule 6).

Features (after :func:`~edge_rules.ecg.rr.ectopic_mask` removed premature/compensatory pairs
and implausible intervals):

* ``nrmssd``  – RMSSD / mean RR (Dash et al. 2009)
* ``tpr``     – turning-point ratio (Dash et al. 2009; ≈ 2/3 for a random series)
* ``shannon`` – Shannon entropy of the 16-bin RR histogram, normalised to [0, 1] (Dash 2009)
* ``prr31``   – fraction of successive differences ≥ 31 ms (pRR31, J Clin Med 2023)
* ``mdrr``    – median |ΔRR| / median RR, robust to any remaining isolated ectopic beat
* ``lag_dev`` – min over lags k = 1, 2, 3 of median |RR_i − RR_{i−k}| / median RR, on the
  uncleaned series: sinus rhythm is predictable at lag 1, bigeminy at lag 2, trigeminy at 3;
  AF at none (HomeRPM's addition, aimed at the frequent ectopy of MIT-BIH)
* ``lag_match`` – max over the same lags of the fraction of |RR_i − RR_{i−k}| < 5 % of median RR

They are combined by a logistic model whose coefficients (:data:`COEFFICIENTS`) were
**fitted on the MIT-BIH Arrhythmia Database only** — see :data:`COEFFICIENTS` for the
procedure. The CinC 2017 validation set is held out and never used for fitting.
This is a screening signal for clinician review, never a diagnosis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .rr import PLAUSIBLE_RR_S, ectopic_mask

FloatArray = npt.NDArray[np.float64]

#: Fewer clean RR intervals than this: no decision (returns False).
MIN_RR = 8
FEATURE_NAMES = ("nrmssd", "tpr", "shannon", "prr31", "mdrr", "lag_dev", "lag_match")
LAGS = (1, 2, 3)

# Logistic model  p(AF) = 1 / (1 + exp(-(b0 + Σ b_k · z_k))),  z_k = (f_k - MEAN_k) / SCALE_k,
# with f = (log nrmssd, tpr, shannon, prr31, log mdrr, log lag_dev, lag_match).
# Fitted by `python -m bench.ecg_affit` on MIT-BIH Arrhythmia DB 30-s windows (reference
# beat annotations → RR; label AF when > 50 % of the window is in an `(AFIB` episode; all 48
# records), L2-regularised (λ = 1e-2) Newton iterations; DECISION is the probability cut
# chosen on the same windows to balance sensitivity and specificity.
MEAN = (-2.608, 0.557, 0.802, 0.432, -3.223, -3.219, 0.649)
SCALE = (0.978, 0.137, 0.141, 0.276, 0.907, 0.853, 0.268)
COEFFICIENTS = (-4.463, 0.166, -0.162, 0.384, 0.597, 0.082, 0.782, -1.166)
DECISION = 0.20


@dataclass(frozen=True)
class AfFeatures:
    nrmssd: float
    tpr: float
    shannon: float
    prr31: float
    mdrr: float
    lag_dev: float
    lag_match: float
    n_rr: int

    def vector(self) -> tuple[float, ...]:
        return (
            math.log(max(self.nrmssd, 1e-4)),
            self.tpr,
            self.shannon,
            self.prr31,
            math.log(max(self.mdrr, 1e-4)),
            math.log(self.lag_dev + 1e-3),
            self.lag_match,
        )


def clean_rr(rr_seconds: npt.ArrayLike) -> FloatArray:
    rr = np.asarray(rr_seconds, dtype=np.float64).ravel()
    rr = rr[np.isfinite(rr)]
    return rr[~ectopic_mask(rr)]


def af_features(rr_seconds: npt.ArrayLike) -> AfFeatures | None:
    """Irregularity features of one RR window, or None when too few clean intervals."""
    raw = np.asarray(rr_seconds, dtype=np.float64).ravel()
    raw = raw[np.isfinite(raw) & (raw >= PLAUSIBLE_RR_S[0]) & (raw <= PLAUSIBLE_RR_S[1])]
    rr = clean_rr(raw)
    if rr.size < MIN_RR or raw.size <= max(LAGS):
        return None
    d = np.diff(rr)
    mean = float(rr.mean())
    nrmssd = float(np.sqrt(np.mean(d * d))) / mean
    inner = rr[1:-1]
    turning = ((inner > rr[:-2]) & (inner > rr[2:])) | ((inner < rr[:-2]) & (inner < rr[2:]))
    tpr = float(turning.mean())
    hist, _ = np.histogram(rr, bins=16)
    p = hist[hist > 0] / rr.size
    shannon = float(-(p * np.log(p)).sum() / math.log(16))
    prr31 = float(np.mean(np.abs(d) >= 0.031))
    mdrr = float(np.median(np.abs(d))) / float(np.median(rr))
    med = float(np.median(raw))
    lag_diffs = [np.abs(raw[k:] - raw[:-k]) for k in LAGS]
    lag_dev = min(float(np.median(v)) for v in lag_diffs) / med
    lag_match = max(float(np.mean(v < 0.05 * med)) for v in lag_diffs)
    return AfFeatures(nrmssd, tpr, shannon, prr31, mdrr, lag_dev, lag_match, int(rr.size))


def af_probability(features: AfFeatures) -> float:
    z = [(f - m) / s for f, m, s in zip(features.vector(), MEAN, SCALE, strict=True)]
    logit = COEFFICIENTS[0] + sum(b * v for b, v in zip(COEFFICIENTS[1:], z, strict=True))
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, logit))))


def is_af(rr_seconds: npt.ArrayLike) -> bool:
    """True when one window of RR intervals (s) looks like atrial fibrillation.

    Premature beats with a compensatory pause and implausible intervals are removed first;
    windows with fewer than :data:`MIN_RR` clean intervals return False.
    """
    features = af_features(rr_seconds)
    return features is not None and af_probability(features) >= DECISION
