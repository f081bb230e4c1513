"""Polar PMD ECG frames -> continuous segments with gap reports -> ``vitals.EcgStrip``.

Each frame's timestamp is the device time of its LAST sample; earlier samples are
``1/fs`` apart. Frames are lost whole on the air (~73 samples at the usual MTU), so a
gap is reported when the next frame starts more than ``max(jitter_samples, n/2)`` sample
periods later than expected; smaller differences are clock jitter. A gap longer than
``max_gap_s`` or a clock going backwards (H10 power cycle, clock set) closes the segment.

Gaps ``(i, n)`` mean n samples are missing between ``samples_uv[i-1]`` and
``samples_uv[i]``; the samples carry no placeholders.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from device_drivers._mapping import build
from device_drivers.codecs.pmd import H10_ECG_HZ, PMD_EPOCH, EcgFrame
from vitals.readings import DeviceRef, EcgStrip


@dataclass(frozen=True, slots=True, eq=False)
class EcgSegment:
    """Contiguous-in-time ECG (gaps listed), device times in ns since 2000-01-01 UTC."""

    start_ns: int
    end_ns: int
    fs_hz: float
    samples_uv: npt.NDArray[np.int32] = field(repr=False)
    gaps: tuple[tuple[int, int], ...] = ()

    @property
    def missing_samples(self) -> int:
        return sum(count for _, count in self.gaps)


class EcgReassembler:
    """Accumulates frames of one stream; ``take`` cuts the current segment."""

    def __init__(
        self, fs_hz: float = H10_ECG_HZ, *, jitter_samples: float = 2.0, max_gap_s: float = 10.0
    ) -> None:
        self.fs_hz = fs_hz
        self.period_ns = 1e9 / fs_hz
        self.jitter_samples = jitter_samples
        self.max_gap_s = max_gap_s
        self._chunks: list[npt.NDArray[np.int32]] = []
        self._count = 0
        self._gaps: list[tuple[int, int]] = []
        self._start_ns: int | None = None
        self._last_ns: int | None = None
        self.frames = 0
        self.missing_samples = 0

    def add(self, frame: EcgFrame) -> list[EcgSegment]:
        """Add a frame; returns segments closed by it (clock jump / long gap), else []."""
        n = int(frame.samples_uv.size)
        if n == 0:
            return []
        self.frames += 1
        first_ns = round(frame.timestamp_ns - (n - 1) * self.period_ns)
        closed: list[EcgSegment] = []
        if self._last_ns is not None:
            delta = first_ns - self._last_ns
            missing = round(delta / self.period_ns) - 1
            if (
                frame.timestamp_ns <= self._last_ns
                or missing * self.period_ns > self.max_gap_s * 1e9
            ):
                segment = self.take()
                if segment is not None:
                    closed.append(segment)
                self._last_ns = None
            elif missing > max(self.jitter_samples, n / 2):
                self._gaps.append((self._count, missing))
                self.missing_samples += missing
        if self._start_ns is None:
            self._start_ns = first_ns
        self._chunks.append(frame.samples_uv)
        self._count += n
        self._last_ns = frame.timestamp_ns
        return closed

    def take(self) -> EcgSegment | None:
        """The samples collected since the last ``take`` (None if none); gap detection
        continues across the cut."""
        if not self._chunks or self._start_ns is None or self._last_ns is None:
            return None
        samples = np.concatenate(self._chunks)
        samples.flags.writeable = False
        segment = EcgSegment(self._start_ns, self._last_ns, self.fs_hz, samples, tuple(self._gaps))
        self._chunks, self._count, self._gaps, self._start_ns = [], 0, [], None
        return segment


def pmd_clock_offset(frame: EcgFrame, received_at: dt.datetime) -> dt.timedelta:
    """Gateway time minus device time at a frame's arrival (radio latency ignored)."""
    return received_at.astimezone(dt.UTC) - frame.last_sample_time


def ecg_to_reading(
    segment: EcgSegment,
    *,
    msg_id: str,
    patient: str,
    device: DeviceRef,
    received_at: dt.datetime,
    simulated: bool,
    clock_offset: dt.timedelta | None = None,
    lead: str = "I",
) -> EcgStrip:
    """Map a segment to ``vitals.EcgStrip``; ``start`` = device time + clock offset."""
    start = PMD_EPOCH + dt.timedelta(microseconds=segment.start_ns // 1000)
    if clock_offset is not None:
        start += clock_offset
    return build(
        EcgStrip,
        msg_id=msg_id,
        patient=patient,
        device=device,
        measured_at=start,
        device_time=f"pmd_ns={segment.start_ns}",
        received_at=received_at,
        simulated=simulated,
        fs_hz=segment.fs_hz,
        lead=lead,
        start=start,
        samples_uv=tuple(segment.samples_uv.tolist()),
        gaps=segment.gaps,
    )
