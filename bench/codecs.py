"""GATT codec throughput: decodes per second per codec, and PMD ECG samples per second.

    python -m bench.codecs [--quick]

Prints a table, then (last line) one JSON object of figures. Payloads are the research
test vectors (real captures where there are any) and an H10-sized ECG frame (73 samples,
229 bytes, the size at the ATT MTU of 232 that polarpy requests). One process, one core.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

import numpy as np

from device_drivers.codecs import pmd
from device_drivers.codecs.registry import codec_for
from device_drivers.ecg_stream import EcgReassembler
from device_drivers.quirks import NO_QUIRKS, quirks_for

# (key, characteristic, payload hex, manufacturer, model)
CASES = [
    ("bp", "2A35", "1E8A00580078000000041114293B3C00012700", None, None),
    ("bp_bm85", "2A35", "566A0047000000EA07080B121F00003F000000", "Beurer", "BM85"),
    ("icp", "2A36", "1E9C00FF07FF07E30708090D1835FF07001000", None, None),
    ("glucose", "2A18", "0B0400E5070A130803233C0058B0F80000", None, None),
    ("glucose_context", "2A34", "020C0001", None, None),
    ("racp", "2A52", "0103010F00", None, None),
    ("heart_rate", "2A37", "16483903", None, None),
    ("plx_spot_check", "2A5E", "0F61004800E8070511081E0080002000002DF0", None, None),
    ("plx_continuous", "2A5F", "03610048006000490062004700", None, None),
    ("weight", "2A9D", "0E8638E8070511081E0002EC00D606", None, None),
    ("date_time", "2A08", "DD07081A090A14", None, None),
    ("current_time", "2A2B", "E8070511081E00050001", None, None),
    ("pmd_control_point", "fb005c81-02e7-f387-1cad-8acd2d8df0c8", "F0010000000001820001010E00",
     None, None),
]  # fmt: skip

ECG_SAMPLES_PER_FRAME = 73


def _rate(fn: Callable[[], object], count: int, repeats: int = 3) -> float:
    """Best-of-``repeats`` calls per second of ``fn``."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(count):
            fn()
        best = min(best, time.perf_counter() - start)
    return count / best


def bench_codecs(count: int) -> dict[str, float]:
    results = {}
    for key, char, hexstr, manufacturer, model in CASES:
        codec = codec_for(char)
        quirks = quirks_for(manufacturer, model) if manufacturer else NO_QUIRKS
        payload = bytes.fromhex(hexstr)
        codec.decode(payload, quirks)  # must be valid
        results[f"{key}_decodes_per_s"] = _rate(
            lambda c=codec, p=payload, q=quirks: c.decode(p, q), count
        )
    return results


def _ecg_frames(frames: int) -> list[bytes]:
    rng = np.random.default_rng(130)
    samples = rng.integers(-5000, 5000, size=frames * ECG_SAMPLES_PER_FRAME, dtype=np.int64)
    period = 1e9 / pmd.H10_ECG_HZ
    out = []
    for k in range(frames):
        chunk = samples[k * ECG_SAMPLES_PER_FRAME : (k + 1) * ECG_SAMPLES_PER_FRAME]
        last_ns = round(10**12 + ((k + 1) * ECG_SAMPLES_PER_FRAME - 1) * period)
        out.append(pmd.encode_ecg_frame(pmd.ecg_frame(last_ns, chunk)))
    return out


def bench_ecg(frames: int) -> dict[str, float]:
    payloads = _ecg_frames(frames)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for payload in payloads:
            pmd.decode_ecg_frame(payload)
        best = min(best, time.perf_counter() - start)
    decoded = [pmd.decode_ecg_frame(p) for p in payloads]
    best_reassembly = float("inf")
    for _ in range(3):
        reassembler = EcgReassembler(pmd.H10_ECG_HZ)
        start = time.perf_counter()
        for frame in decoded:
            reassembler.add(frame)
        segment = reassembler.take()
        best_reassembly = min(best_reassembly, time.perf_counter() - start)
        assert segment is not None and not segment.gaps
    samples = frames * ECG_SAMPLES_PER_FRAME
    one_big = pmd.encode_ecg_frame(pmd.ecg_frame(0, np.zeros(samples, dtype=np.int32)))
    best_bulk = min(_timed(lambda: pmd.decode_ecg_frame(one_big)) for _ in range(3))
    return {
        "ecg_frames_per_s": frames / best,
        "ecg_samples_per_s": samples / best,
        "ecg_bulk_samples_per_s": samples / best_bulk,
        "ecg_reassembly_samples_per_s": samples / best_reassembly,
    }


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.codecs", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer iterations (< 1 min)")
    args = parser.parse_args(argv)
    count, frames = (5_000, 2_000) if args.quick else (50_000, 20_000)
    results = bench_codecs(count)
    results.update(bench_ecg(frames))
    print(f"{'figure':<40} {'value':>14}")
    print("-" * 55)
    for key, value in results.items():
        print(f"{key:<40} {value:>14,.0f}")
    print(json.dumps({key: round(value) for key, value in results.items()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
