"""Readers for the ECG reference data used by ``bench.ecg`` (MIT-BIH, CinC 2017).

Data root: env ``HOMERPM_DATA``, else ``<repo>/../shared/data`` (or one level higher for a
git worktree). Signals are read with a
small format-212 reader (numpy only); annotations with ``wfdb.rdann`` (``bench`` extra).
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

# Annotation symbols that mark a beat (ANSI/AAMI EC57 / PhysioNet "beat" codes).
BEAT_SYMBOLS = frozenset("NLRBAaJSVrFejnE/fQ?")


def data_root() -> Path:
    env = os.environ.get("HOMERPM_DATA")
    if env:
        return Path(env)
    repo = Path(__file__).resolve().parent.parent
    # <repo>/../shared/data; a git worktree under <root>/wt/<name> looks two levels up too.
    for cand in (repo.parent / "shared" / "data", repo.parent.parent / "shared" / "data"):
        if cand.is_dir():
            return cand
    return repo.parent / "shared" / "data"


def mitdb_dir() -> Path:
    return data_root() / "ecg" / "mitdb"


def cinc_dir() -> Path:
    return data_root() / "ecg" / "cinc2017_validation"


def mitdb_records() -> list[str]:
    return (mitdb_dir() / "RECORDS").read_text().split()


@dataclass(frozen=True)
class Record:
    name: str
    fs: float
    signal_mv: np.ndarray  # channel 0, mV
    beat_samples: np.ndarray  # reference beats (beat symbols only)
    beat_symbols: np.ndarray
    rhythm_samples: np.ndarray  # '+' annotations: rhythm changes
    rhythm_labels: tuple[str, ...]  # aux text, e.g. '(N', '(AFIB'
    vf_intervals: tuple[tuple[int, int], ...]  # '[' .. ']' ventricular flutter/fibrillation


def read_212(path: Path, n_samples: int) -> np.ndarray:
    """Digital samples of a one-signal format-212 file (12-bit two's complement pairs)."""
    raw = np.fromfile(path, dtype=np.uint8)
    raw = raw[: (raw.size // 3) * 3].reshape(-1, 3).astype(np.int32)
    first = raw[:, 0] | ((raw[:, 1] & 0x0F) << 8)
    second = raw[:, 2] | ((raw[:, 1] & 0xF0) << 4)
    out = np.empty(raw.shape[0] * 2, dtype=np.int32)
    out[0::2] = first
    out[1::2] = second
    out[out >= 2048] -= 4096
    return out[:n_samples]


@lru_cache(maxsize=64)
def read_mitdb(name: str) -> Record:
    import wfdb  # bench extra

    d = mitdb_dir()
    head = (d / f"{name}.hea").read_text().splitlines()
    _, _, fs_s, n_s = head[0].split()[:4]
    sig = head[1].split()
    gain = float(sig[2].split("(")[0].split("/")[0])
    baseline = float(sig[4])
    digital = read_212(d / sig[0], int(n_s))
    ann = wfdb.rdann(str(d / name), "atr")
    symbols = np.asarray(ann.symbol)
    samples = np.asarray(ann.sample, dtype=np.int64)
    is_beat = np.isin(symbols, list(BEAT_SYMBOLS))
    plus = symbols == "+"
    aux = [a.rstrip("\x00") for a in np.asarray(ann.aux_note)[plus]]
    vf: list[tuple[int, int]] = []
    start: int | None = None
    for s, sym in zip(samples, symbols, strict=True):
        if sym == "[":
            start = int(s)
        elif sym == "]" and start is not None:
            vf.append((start, int(s)))
            start = None
    if start is not None:
        vf.append((start, int(n_s)))
    return Record(
        name=name,
        fs=float(fs_s),
        signal_mv=(digital - baseline) / gain,
        beat_samples=samples[is_beat],
        beat_symbols=symbols[is_beat],
        rhythm_samples=samples[plus],
        rhythm_labels=tuple(aux),
        vf_intervals=tuple(vf),
    )


def cinc_records() -> list[tuple[str, str]]:
    """(record name, label) pairs of the CinC 2017 validation set; label in N, A, O, ~."""
    with (cinc_dir() / "REFERENCE.csv").open() as f:
        return [(row[0], row[1]) for row in csv.reader(f) if row]


def read_cinc(name: str) -> np.ndarray:
    from scipy.io import loadmat

    val = loadmat(str(cinc_dir() / f"{name}.mat"))["val"][0]
    return np.asarray(val, dtype=np.float64) / 1000.0
