"""Recorded ECG for the strap simulator: a WFDB record (e.g. MIT-BIH) replayed at 130 Hz.

Reads single-channel format-212 records (the MIT-BIH Arrhythmia Database as kept in the
project's data dir) with a small reader of its own, so the simulator does not need the
``wfdb`` package; resamples 360 -> 130 Hz with a polyphase filter (scipy) and converts
ADC units to microvolts with the header's gain and baseline. Loops at the end.

MIT-BIH: Moody GB, Mark RG, IEEE Eng Med Biol 20(3):45-50 (2001); PhysioNet
(Goldberger et al., Circulation 101(23):e215-e220, 2000); ODC-By 1.0.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import numpy as np
import numpy.typing as npt


def decode_212(data: bytes) -> npt.NDArray[np.int16]:
    """Format 212, one channel: every 3 bytes hold two 12-bit two's-complement samples."""
    raw = np.frombuffer(data[: len(data) // 3 * 3], dtype=np.uint8).reshape(-1, 3).astype(np.int16)
    first = raw[:, 0] | ((raw[:, 1] & 0x0F) << 8)
    second = raw[:, 2] | ((raw[:, 1] & 0xF0) << 4)
    samples = np.column_stack([first, second]).reshape(-1)
    return np.where(samples >= 2048, samples - 4096, samples).astype(np.int16)


class RecordedEcg:
    """A sample source (``next(n)``) over a recorded strip, in µV at ``fs_out``."""

    def __init__(self, samples_uv: npt.NDArray[np.int32], name: str = "recording") -> None:
        if samples_uv.size == 0:
            raise ValueError("empty recording")
        self.samples_uv = samples_uv.astype(np.int32)
        self.name = name
        self._pos = 0

    @classmethod
    def from_adc(cls, adc: npt.ArrayLike, *, fs_in: float, gain_adu_per_mv: float,
                 baseline: int = 0, fs_out: float = 130.0, name: str = "recording") -> RecordedEcg:
        mv = (np.asarray(adc, dtype=np.float64) - baseline) / gain_adu_per_mv
        ratio = Fraction(fs_out / fs_in).limit_denominator(1000)
        # Imported here: scipy.signal costs ~70 MB, and only MIT-BIH replay needs it.
        from scipy.signal import resample_poly

        resampled = resample_poly(mv, ratio.numerator, ratio.denominator)
        return cls(np.round(resampled * 1000).astype(np.int32), name)

    @classmethod
    def from_wfdb(cls, record: Path, *, fs_out: float = 130.0) -> RecordedEcg:
        """``record`` without extension, e.g. ``.../mitdb/100`` (header + 212 data)."""
        header = record.with_suffix(".hea").read_text().splitlines()
        _, nsig, fs, *_ = header[0].split()
        signal = header[1].split()
        if int(nsig) != 1 or signal[1] != "212":
            raise ValueError(f"{record}: need one channel in format 212, got {header[:2]}")
        gain = float(signal[2].split("(")[0].split("/")[0])
        baseline = int(signal[4])
        adc = decode_212((record.parent / signal[0]).read_bytes())
        return cls.from_adc(adc, fs_in=float(fs), gain_adu_per_mv=gain, baseline=baseline,
                            fs_out=fs_out, name=record.name)

    def next(self, n: int) -> npt.NDArray[np.int32]:
        out = np.empty(n, dtype=np.int32)
        filled = 0
        while filled < n:
            take = min(n - filled, self.samples_uv.size - self._pos)
            out[filled : filled + take] = self.samples_uv[self._pos : self._pos + take]
            filled += take
            self._pos = (self._pos + take) % self.samples_uv.size
        return out


def mitbih_record(record: str, data_dir: Path | None = None) -> Path:
    """Path of a MIT-BIH record in the data dir (``HOMERPM_DATA`` or ``../shared/data``)."""
    default = Path(__file__).resolve().parents[3] / "shared" / "data"
    root = data_dir or Path(os.environ.get("HOMERPM_DATA", default))
    path = root / "ecg" / "mitdb" / record
    if not path.with_suffix(".hea").exists():
        raise FileNotFoundError(f"MIT-BIH record {record} not found under {root}/ecg/mitdb")
    return path
