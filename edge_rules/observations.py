"""Readings → observations (the values rules test), including ECG strip analysis.

The ECG analysis lives in :mod:`edge_rules.ecg`; rules only need the few fields of
:class:`EcgAnalysisLike`, so the engine depends on that protocol (the real ``analyze`` by
default) and unit tests can pass an in-memory analyser.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import timedelta
from functools import cache
from typing import Any, Protocol

from edge_rules.model import Observation
from vitals.readings import (
    BloodPressure,
    BodyWeight,
    EcgStrip,
    Glucose,
    GlucoseSampleType,
    HeartRate,
    RangeFlag,
    ReadingBase,
    SpO2,
)


class EcgAnalysisLike(Protocol):
    """The part of ``edge_rules.ecg.EcgAnalysis`` the rules read."""

    @property
    def hr_bpm(self) -> float | None: ...
    @property
    def quality(self) -> Any: ...  # enum whose value is "good" / "noisy" / "lead_off" / ...
    @property
    def af_suspected(self) -> bool: ...
    @property
    def pauses(self) -> Sequence[tuple[float, float]]: ...


EcgAnalyzer = Callable[[Any, float], EcgAnalysisLike]


@cache
def default_ecg_analyzer() -> EcgAnalyzer:
    """The real analyser, :func:`edge_rules.ecg.analyze` (imported lazily: numpy/scipy)."""
    from edge_rules.ecg import analyze

    fn: EcgAnalyzer = analyze
    return fn


def stream_of(reading: ReadingBase) -> str:
    if isinstance(reading, Glucose):
        cgm = reading.sample_type is GlucoseSampleType.INTERSTITIAL_FLUID
        return "cgm" if cgm else "glucose_meter"
    if isinstance(reading, BloodPressure):
        return "bp"
    if isinstance(reading, EcgStrip):
        return "ecg"
    if isinstance(reading, HeartRate):
        return "heart_rate"
    if isinstance(reading, SpO2):
        return "spo2"
    if isinstance(reading, BodyWeight):
        return "body_weight"
    return "other"


def reading_span(reading: ReadingBase) -> tuple[Any, Any]:
    if isinstance(reading, EcgStrip):
        return reading.start, reading.start + timedelta(seconds=reading.duration_s)
    return reading.measured_at, reading.measured_at


def observe(reading: ReadingBase, analyzer: EcgAnalyzer | None) -> list[Observation]:
    """Every observation a reading yields (none for control solution or lost contact)."""
    start, end = reading_span(reading)
    stream = stream_of(reading)
    kind = str(getattr(reading, "kind", "other"))

    def obs(observable: str, value: float, unit: str) -> Observation:
        return Observation(reading.patient, observable, value, unit, start, end,
                           reading.msg_id, reading.simulated, kind, stream)

    if isinstance(reading, Glucose):
        control = reading.control_solution or reading.sample_type is (
            GlucoseSampleType.CONTROL_SOLUTION)
        if control:
            return []
        g = obs("glucose", reading.mg_dl, "mg/dL")
        if reading.range_flag is not None:
            shown = "LO" if reading.range_flag is RangeFlag.LOW else "HI"
            side = "below" if reading.range_flag is RangeFlag.LOW else "above"
            g = replace(g, note=f"meter shows {shown}: {side} its measuring range")
        return [g]
    if isinstance(reading, BloodPressure):
        out = [obs("systolic", reading.systolic, "mmHg"),
               obs("diastolic", reading.diastolic, "mmHg")]
        if reading.pulse is not None:
            out.append(obs("bp_pulse", reading.pulse, "bpm"))
        return out
    if isinstance(reading, HeartRate):
        if reading.sensor_contact is False or reading.bpm <= 0:
            return []
        return [obs("heart_rate", reading.bpm, "bpm")]
    if isinstance(reading, SpO2):
        return [obs("spo2", reading.spo2_pct, "%")]
    if isinstance(reading, EcgStrip):
        return _observe_ecg(reading, analyzer, obs)
    return []


def _observe_ecg(
    strip: EcgStrip, analyzer: EcgAnalyzer | None, obs: Callable[[str, float, str], Observation]
) -> list[Observation]:
    if analyzer is None or not strip.samples_uv:
        return []
    import numpy as np  # only ECG strips need numpy

    signal_mv = np.asarray(strip.samples_uv, dtype=np.float64) / 1000.0
    analysis = analyzer(signal_mv, strip.fs_hz)
    quality = str(getattr(analysis.quality, "value", analysis.quality))
    if quality != "good":
        # Unusable strip: NaN breaks AF/pause persistence without counting either way, and
        # a noisy strip never yields a heart rate.
        return [obs("ecg_af", math.nan, "flag"), obs("ecg_pause", math.nan, "s")]
    out = [
        obs("ecg_af", 1.0 if analysis.af_suspected else 0.0, "flag"),
        obs("ecg_pause", max((d for _, d in analysis.pauses), default=0.0), "s"),
    ]
    if analysis.hr_bpm is not None and analysis.hr_bpm > 0:
        out.append(obs("heart_rate", float(analysis.hr_bpm), "bpm"))
    return out
