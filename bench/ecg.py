"""ECG benchmark: beat detection on MIT-BIH vs peers, AF screen on MIT-BIH and CinC 2017.

Run ``python -m bench.ecg [--quick]``. Prints tables; the last line is one JSON object.

Beat scoring follows ANSI/AAMI EC57 as implemented by PhysioNet ``bxb``: channel 0 of all 48
records, reference = annotations with beat symbols, match window ±150 ms, first 300 s of each
record excluded, gross Se / +P / F1. EC57 also excludes ventricular flutter/fibrillation
episodes (``[`` … ``]``, only record 207 has them) from QRS scoring; both figures are printed
(``*_pct`` = EC57 with VF excluded, ``strict_*_pct`` = VF included).
Speed = seconds of ECG per CPU second (``time.process_time``, one process).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from edge_rules.ecg import analyze, detect_beats, is_af

from ._afwindows import windows
from ._ecgdata import cinc_records, mitdb_records, read_cinc, read_mitdb

MATCH_S = 0.150
SKIP_S = 300.0
# --quick: 5 records cut to their first 10 min (300 s skipped + 300 s scored), two neurokit2
# methods and GQRS (XQRS is too slow for a one-minute budget), 4 AF records, 60 CinC records.
QUICK_RECORDS = ["105", "108", "203", "207", "232"]
QUICK_SECONDS = 600.0
QUICK_AF_RECORDS = ["119", "201", "203", "210"]
QUICK_CINC = 60
NK_METHODS = [
    "neurokit",
    "pantompkins1985",
    "hamilton2002",
    "elgendi2010",
    "engzeemod2012",
    "kalidas2017",
    "christov2004",
    "rodrigues2021",
]
QUICK_NK = ["neurokit", "pantompkins1985"]


def match(ref: np.ndarray, det: np.ndarray, tol: int) -> tuple[int, int, int]:
    """(TP, FN, FP) by greedy nearest one-to-one matching within ±tol samples."""
    used = np.zeros(det.size, dtype=bool)
    tp = 0
    j = 0
    for r in ref:
        while j < det.size and det[j] < r - tol:
            j += 1
        best, dist = -1, tol + 1
        k = j
        while k < det.size and det[k] <= r + tol:
            if not used[k] and abs(int(det[k]) - int(r)) < dist:
                best, dist = k, abs(int(det[k]) - int(r))
            k += 1
        if best >= 0:
            used[best] = True
            tp += 1
    return tp, ref.size - tp, int((~used).sum())


@dataclass
class Score:
    tp: int = 0
    fn: int = 0
    fp: int = 0
    strict: list[int] = field(default_factory=lambda: [0, 0, 0])
    cpu_s: float = 0.0
    ecg_s: float = 0.0
    errors: int = 0
    per_record: dict[str, tuple[int, int]] = field(default_factory=dict)

    def figures(self, tp: int, fn: int, fp: int) -> tuple[float, float, float]:
        se = tp / max(tp + fn, 1)
        ppv = tp / max(tp + fp, 1)
        return 100 * se, 100 * ppv, 200 * se * ppv / max(se + ppv, 1e-12)


def score_record(
    ref: np.ndarray, det: np.ndarray, fs: float, vf: tuple[tuple[int, int], ...]
) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    tol = round(MATCH_S * fs)
    t0 = int(SKIP_S * fs)
    r = ref[ref >= t0]
    d = det[det >= t0 - tol]
    tp, fn, fp_all = match(r, d, tol)
    # unmatched detections before t0 (allowed only for matching edge beats) are not scored
    early_unmatched = int(np.count_nonzero(d < t0)) - _matched_before(r, d, tol, t0)
    strict = (tp, fn, fp_all - max(early_unmatched, 0))
    for a, b in vf:
        r = r[(r < a) | (r > b)]
        d = d[(d < a) | (d > b)]
    tp, fn, fp_all = match(r, d, tol)
    early_unmatched = int(np.count_nonzero(d < t0)) - _matched_before(r, d, tol, t0)
    return (tp, fn, fp_all - max(early_unmatched, 0)), strict


def _matched_before(r: np.ndarray, d: np.ndarray, tol: int, t0: int) -> int:
    early = d[d < t0]
    if early.size == 0:
        return 0
    near = r[r < t0 + tol]
    return min(early.size, near.size)


def detectors(
    quick: bool, peers: bool = True
) -> dict[str, Callable[[np.ndarray, float], np.ndarray]]:
    out: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {"homerpm": detect_beats}
    if not peers:
        return out
    try:
        import neurokit2 as nk

        for m in QUICK_NK if quick else NK_METHODS:
            out[f"nk_{m}"] = _nk(nk, m)
    except ImportError:
        print("neurokit2 not installed: its detectors are skipped")
    try:
        from wfdb import processing

        out["wfdb_gqrs"] = lambda x, fs: np.asarray(processing.gqrs_detect(sig=x, fs=fs))
        if not quick:
            out["wfdb_xqrs"] = lambda x, fs: np.asarray(
                processing.xqrs_detect(sig=x, fs=fs, verbose=False)
            )
    except ImportError:
        print("wfdb not installed: XQRS/GQRS skipped")
    return out


def _nk(nk: object, method: str) -> Callable[[np.ndarray, float], np.ndarray]:
    def run(x: np.ndarray, fs: float) -> np.ndarray:
        clean_method = method if method != "rodrigues2021" else "neurokit"
        cleaned = nk.ecg_clean(x, sampling_rate=int(fs), method=clean_method)  # type: ignore[attr-defined]
        peaks = nk.ecg_findpeaks(cleaned, sampling_rate=int(fs), method=method)  # type: ignore[attr-defined]
        return np.asarray(peaks["ECG_R_Peaks"], dtype=np.int64)

    return run


def bench_beats(quick: bool, peers: bool = True) -> dict[str, Score]:
    records = QUICK_RECORDS if quick else mitdb_records()
    dets = detectors(quick, peers)
    scores = {name: Score() for name in dets}
    for k, rec_name in enumerate(records, 1):
        print(f"  record {rec_name} ({k}/{len(records)})", file=sys.stderr, flush=True)
        rec = read_mitdb(rec_name)
        signal, ref = rec.signal_mv, rec.beat_samples
        if quick:
            signal = signal[: int(QUICK_SECONDS * rec.fs)]
            ref = ref[ref < signal.size]
        for name, fn in dets.items():
            sc = scores[name]
            t = time.process_time()
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    det = np.sort(np.asarray(fn(signal, rec.fs), dtype=np.int64))
            except Exception as exc:  # a peer failing on one record is a result, not a crash
                print(f"  {name} failed on {rec_name}: {type(exc).__name__}: {exc}")
                det = np.zeros(0, dtype=np.int64)
                sc.errors += 1
            sc.cpu_s += time.process_time() - t
            sc.ecg_s += signal.size / rec.fs
            (tp, fn_, fp), strict = score_record(ref, det, rec.fs, rec.vf_intervals)
            sc.tp += tp
            sc.fn += fn_
            sc.fp += fp
            sc.strict = [a + b for a, b in zip(sc.strict, strict, strict=True)]
            sc.per_record[rec_name] = (fn_, fp)
    return scores


def print_beats(scores: dict[str, Score], n_records: int) -> dict[str, dict[str, float]]:
    print(
        f"\nBeat detection, MIT-BIH ({n_records} records, channel 0, ±150 ms, first 300 s skipped)"
    )
    print(
        f"{'detector':24} {'Se %':>8} {'+P %':>8} {'F1 %':>8} {'FN':>6} {'FP':>6} "
        f"{'strict F1 %':>11} {'× real time':>12}"
    )
    out = {}
    for name, sc in sorted(
        scores.items(), key=lambda kv: -kv[1].figures(kv[1].tp, kv[1].fn, kv[1].fp)[2]
    ):
        se, ppv, f1 = sc.figures(sc.tp, sc.fn, sc.fp)
        sse, sppv, sf1 = sc.figures(*sc.strict)
        rt = sc.ecg_s / max(sc.cpu_s, 1e-9)
        print(
            f"{name:24} {se:8.3f} {ppv:8.3f} {f1:8.3f} {sc.fn:6d} {sc.fp:6d} {sf1:11.3f} {rt:12.0f}"
        )
        out[name] = {
            "se_pct": round(se, 3),
            "ppv_pct": round(ppv, 3),
            "f1_pct": round(f1, 3),
            "fn": sc.fn,
            "fp": sc.fp,
            "strict_se_pct": round(sse, 3),
            "strict_ppv_pct": round(sppv, 3),
            "strict_f1_pct": round(sf1, 3),
            "realtime_factor": round(rt, 1),
            "errors": sc.errors,
        }
    ours = scores["homerpm"].per_record
    worst = sorted(ours.items(), key=lambda kv: -(kv[1][0] + kv[1][1]))[:10]
    print("homerpm worst records (FN/FP): " + ", ".join(f"{k}: {a}/{b}" for k, (a, b) in worst))
    return out


def se_sp(flags: list[bool], labels: list[bool]) -> tuple[float, float]:
    f = np.asarray(flags, dtype=bool)
    y = np.asarray(labels, dtype=bool)
    se = 100 * float(f[y].mean()) if y.any() else float("nan")
    sp = 100 * float((~f[~y]).mean()) if (~y).any() else float("nan")
    return se, sp


def bench_af_mitdb(quick: bool) -> dict[str, float]:
    records = QUICK_AF_RECORDS if quick else mitdb_records()
    labels: list[bool] = []
    on_ref: list[bool] = []
    on_det: list[bool] = []
    for name in records:
        rec = read_mitdb(name)
        beats = detect_beats(rec.signal_mv, rec.fs)
        for w in windows(rec):
            b = beats[(beats >= w.start) & (beats < w.stop)]
            labels.append(w.af)
            on_ref.append(is_af(w.ref_rr_s))
            on_det.append(is_af(np.diff(b) / rec.fs))
    se_r, sp_r = se_sp(on_ref, labels)
    se_d, sp_d = se_sp(on_det, labels)
    print(
        f"\nAF screen, MIT-BIH 30-s windows ({len(records)} records, {len(labels)} windows, "
        f"{sum(labels)} AF) — IN-SAMPLE: the model was fitted on these windows"
    )
    print(f"{'RR source':24} {'Se %':>8} {'Sp %':>8}")
    print(f"{'reference annotations':24} {se_r:8.2f} {sp_r:8.2f}")
    print(f"{'homerpm detect_beats':24} {se_d:8.2f} {sp_d:8.2f}")
    return {
        "af_mitdb_windows": len(labels),
        "af_mitdb_af_windows": int(sum(labels)),
        "af_mitdb_ref_se_pct": round(se_r, 2),
        "af_mitdb_ref_sp_pct": round(sp_r, 2),
        "af_mitdb_det_se_pct": round(se_d, 2),
        "af_mitdb_det_sp_pct": round(sp_d, 2),
    }


def bench_af_cinc(quick: bool) -> dict[str, float]:
    recs = cinc_records()
    if quick:
        recs = recs[:QUICK_CINC]
    flags: dict[str, list[bool]] = {"N": [], "A": [], "O": [], "~": []}
    quality: dict[str, list[str]] = {"N": [], "A": [], "O": [], "~": []}
    for name, label in recs:
        a = analyze(read_cinc(name), 300.0)
        flags[label].append(a.af_suspected)
        quality[label].append(a.quality.value)
    se = 100 * float(np.mean(flags["A"]))
    sp_n = 100 * float(1 - np.mean(flags["N"]))
    tp = sum(flags["A"])
    fp = sum(sum(flags[k]) for k in ("N", "O", "~"))
    fn = len(flags["A"]) - tp
    prec = tp / max(tp + fp, 1)
    rec_ = tp / max(tp + fn, 1)
    f1 = 2 * prec * rec_ / max(prec + rec_, 1e-12)
    print(
        f"\nAF screen, CinC 2017 validation set (HELD OUT, {len(recs)} records, "
        "analyze() at 300 Hz)"
    )
    print(f"{'label':6} {'n':>4} {'flagged AF':>10} {'quality good':>12}")
    for k in ("N", "A", "O", "~"):
        print(f"{k:6} {len(flags[k]):4d} {sum(flags[k]):10d} {quality[k].count('good'):12d}")
    print(
        f"AF vs normal: Se {se:.1f} %  Sp {sp_n:.1f} %;  AF vs rest (N+O+~ as negatives, "
        f"a '~' record flagged AF counts as a false positive): F1 {f1:.3f}"
    )
    return {
        "cinc_records": len(recs),
        "cinc_af_se_pct": round(se, 2),
        "cinc_af_vs_normal_sp_pct": round(sp_n, 2),
        "cinc_af_vs_rest_f1": round(f1, 3),
        "cinc_af_vs_rest_ppv_pct": round(100 * prec, 2),
        "cinc_noisy_flagged_af": sum(flags["~"]),
        "cinc_other_flagged_af": sum(flags["O"]),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="subset of records and peers (< 1 min)")
    ap.add_argument("--no-peers", action="store_true", help="only HomeRPM's detector")
    args = ap.parse_args(argv)
    t = time.time()
    scores = bench_beats(args.quick, peers=not args.no_peers)
    beats = print_beats(scores, len(QUICK_RECORDS if args.quick else mitdb_records()))
    af = bench_af_mitdb(args.quick)
    cinc = bench_af_cinc(args.quick)
    ours = beats["homerpm"]
    peers_best = max((v["f1_pct"] for k, v in beats.items() if k != "homerpm"), default=0.0)
    result = {
        "quick": args.quick,
        "f1_pct": ours["f1_pct"],
        "se_pct": ours["se_pct"],
        "ppv_pct": ours["ppv_pct"],
        "strict_f1_pct": ours["strict_f1_pct"],
        "realtime_factor": ours["realtime_factor"],
        "best_peer_f1_pct": peers_best,
        "peers": {k: v for k, v in beats.items() if k != "homerpm"},
        **af,
        **cinc,
        "wall_s": round(time.time() - t, 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
