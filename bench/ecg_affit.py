"""Fit the AF-screen logistic model on MIT-BIH only: ``python -m bench.ecg_affit``.

Procedure (the one that produced the constants in ``edge_rules/ecg/af.py``):
1. All 48 MIT-BIH records cut into non-overlapping 30-s windows; RR from the *reference*
   beat annotations; label AF when > 50 % of the window lies in an ``(AFIB`` episode.
2. Features from ``af_features``; windows with too few plausible RR dropped.
3. Standardise (mean/scale rounded and frozen), L2-regularised logistic regression by Newton
   iterations (numpy only), λ = 1e-2.
4. Decision threshold: the probability cut maximising min(Se, Sp) on the same windows.
5. Leave-one-record-out cross-validation of steps 3–4 is printed as an honest estimate, also
   for the Dash et al. / pRR31 feature set for comparison.
CinC 2017 is never read here.
"""

from __future__ import annotations

import json
import math

import numpy as np

from edge_rules.ecg.af import af_features

from ._afwindows import windows
from ._ecgdata import mitdb_records, read_mitdb

LAMBDA = 1e-2


def dataset() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(model features, Dash/pRR31 features, labels, record names) of all windows."""
    xs, dash, ys, groups = [], [], [], []
    for name in mitdb_records():
        for w in windows(read_mitdb(name)):
            f = af_features(w.ref_rr_s)
            if f is None:
                continue
            xs.append(f.vector())
            dash.append((math.log(f.nrmssd + 1e-4), f.tpr, f.shannon, f.prr31))
            ys.append(w.af)
            groups.append(name)
    return np.asarray(xs), np.asarray(dash), np.asarray(ys, dtype=float), np.asarray(groups)


def fit_logistic(z: np.ndarray, y: np.ndarray, lam: float = LAMBDA) -> np.ndarray:
    a = np.hstack([np.ones((z.shape[0], 1)), z])
    beta = np.zeros(a.shape[1])
    reg = lam * np.eye(a.shape[1])
    reg[0, 0] = 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-np.clip(a @ beta, -50, 50)))
        grad = a.T @ (p - y) / y.size + reg @ beta
        hess = (a.T * (p * (1 - p))) @ a / y.size + reg
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.abs(step).max() < 1e-9:
            break
    return beta


def predict(beta: np.ndarray, z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-np.clip(beta[0] + z @ beta[1:], -50, 50)))


def best_cut(p: np.ndarray, y: np.ndarray) -> float:
    best, cut = -1.0, 0.5
    for c in np.linspace(0.01, 0.99, 99):
        se = float(np.mean(p[y == 1] >= c))
        sp = float(np.mean(p[y == 0] < c))
        if min(se, sp) > best:
            best, cut = min(se, sp), float(c)
    return cut


def se_sp(flag: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    return float(np.mean(flag[y == 1])) * 100, float(np.mean(~flag[y == 0])) * 100


def loro(z: np.ndarray, y: np.ndarray, groups: np.ndarray) -> tuple[float, float]:
    """Leave-one-record-out Se/Sp of fit + cut selection."""
    flags = np.zeros(y.size, dtype=bool)
    for g in np.unique(groups):
        tr, te = groups != g, groups == g
        b = fit_logistic(z[tr], y[tr])
        flags[te] = predict(b, z[te]) >= best_cut(predict(b, z[tr]), y[tr])
    return se_sp(flags, y)


def main() -> None:
    x, dash, y, groups = dataset()
    mean = np.round(x.mean(axis=0), 3)
    scale = np.round(x.std(axis=0), 3)
    z = (x - mean) / scale
    beta = fit_logistic(z, y)
    cut = best_cut(predict(beta, z), y)
    se, sp = se_sp(predict(beta, z) >= cut, y)
    cv_se, cv_sp = loro(z, y, groups)
    dz = (dash - dash.mean(axis=0)) / dash.std(axis=0)
    dash_se, dash_sp = loro(dz, y, groups)
    print(f"windows {y.size} (AF {int(y.sum())})")
    print(f"MEAN = {tuple(float(v) for v in mean)}")
    print(f"SCALE = {tuple(float(v) for v in scale)}")
    print(f"COEFFICIENTS = {tuple(round(float(v), 3) for v in beta)}")
    print(f"DECISION = {cut:.2f}")
    print(f"{'model':34} {'Se %':>6} {'Sp %':>6}")
    print(f"{'recurrence, in-sample':34} {se:6.1f} {sp:6.1f}")
    print(f"{'recurrence, leave-one-record-out':34} {cv_se:6.1f} {cv_sp:6.1f}")
    print(f"{'Dash+pRR31, leave-one-record-out':34} {dash_se:6.1f} {dash_sp:6.1f}")
    figures = {
        "windows": int(y.size),
        "af_windows": int(y.sum()),
        "se_pct": round(se, 2),
        "sp_pct": round(sp, 2),
        "loro_se_pct": round(cv_se, 2),
        "loro_sp_pct": round(cv_sp, 2),
        "dash_loro_se_pct": round(dash_se, 2),
        "dash_loro_sp_pct": round(dash_sp, 2),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
