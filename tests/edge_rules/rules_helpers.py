"""Reading factories, a fake ECG analyser and a small driver for the edge_rules unit tests."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from edge_rules.engine import evaluate
from edge_rules.overrides import PatientContext
from edge_rules.ruleset import RuleSet, load_ruleset
from edge_rules.state import EngineState
from vitals.alerts import Alert
from vitals.ids import new_msg_id
from vitals.readings import (
    BloodPressure,
    DeviceRef,
    EcgStrip,
    Glucose,
    GlucoseSampleType,
    HeartRate,
    ReadingBase,
)

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
DEV = DeviceRef(make="test", model="dev", serial="T1")
P = "p-test"
DEFAULTS = load_ruleset()


def at(minutes: float = 0, seconds: float = 0) -> datetime:
    return T0 + timedelta(minutes=minutes, seconds=seconds)


def _base(t: datetime, patient: str, simulated: bool, msg_id: str | None) -> dict[str, Any]:
    return {
        "msg_id": msg_id or new_msg_id(t),
        "patient": patient,
        "device": DEV,
        "measured_at": t,
        "simulated": simulated,
    }


def glucose(
    t: datetime,
    mg_dl: float,
    *,
    cgm: bool = True,
    patient: str = P,
    simulated: bool = False,
    msg_id: str | None = None,
    control: bool = False,
) -> Glucose:
    return Glucose(
        **_base(t, patient, simulated, msg_id),
        mg_dl=mg_dl,
        value_received=mg_dl,
        unit_received="mg/dL",
        control_solution=control,
        sample_type=GlucoseSampleType.INTERSTITIAL_FLUID
        if cgm
        else GlucoseSampleType.CAPILLARY_PLASMA,
    )


def bp(
    t: datetime,
    sys: float,
    dia: float,
    *,
    pulse: float | None = None,
    patient: str = P,
    simulated: bool = False,
) -> BloodPressure:
    return BloodPressure(
        **_base(t, patient, simulated, None), systolic=sys, diastolic=dia, pulse=pulse
    )


def hr(t: datetime, bpm: float, *, patient: str = P, contact: bool | None = True) -> HeartRate:
    return HeartRate(**_base(t, patient, False, None), bpm=bpm, sensor_contact=contact)


# ------------------------------------------------------------------ fake ECG analysis


@dataclass(frozen=True)
class FakeAnalysis:
    hr_bpm: float | None
    quality: str
    af_suspected: bool
    pauses: tuple[tuple[float, float], ...]


#: strip "codes" (first sample, µV) → what the fake analyser reports
CODES = {
    1: FakeAnalysis(72.0, "good", False, ()),
    2: FakeAnalysis(110.0, "good", True, ()),
    3: FakeAnalysis(None, "noisy", False, ()),
    4: FakeAnalysis(45.0, "good", False, ((3.0, 3.4),)),
    5: FakeAnalysis(160.0, "good", False, ()),
}


def fake_analyze(signal_mv: Any, fs: float) -> FakeAnalysis:
    return CODES[round(float(signal_mv[0]) * 1000)]


def strip(
    t: datetime, code: int, *, seconds: float = 10, fs: float = 10, patient: str = P
) -> EcgStrip:
    n = round(seconds * fs)
    return EcgStrip(
        **_base(t, patient, True, None), fs_hz=fs, start=t, samples_uv=tuple([code] * n)
    )


# ------------------------------------------------------------------ driver


class Driver:
    """Feeds readings one call at a time and keeps every alert emitted."""

    def __init__(
        self, ruleset: RuleSet = DEFAULTS, contexts: Mapping[str, PatientContext] | None = None
    ) -> None:
        self.ruleset, self.contexts = ruleset, contexts
        self.state = EngineState()
        self.alerts: list[Alert] = []

    def feed(
        self, readings: Iterable[ReadingBase] | ReadingBase, now: datetime | None = None
    ) -> list[Alert]:
        batch = [readings] if isinstance(readings, ReadingBase) else list(readings)
        if now is None:
            now = max(r.measured_at for r in batch) if batch else T0
            if batch and isinstance(batch[-1], EcgStrip):
                now = batch[-1].start + timedelta(seconds=batch[-1].duration_s)
        out, self.state = evaluate(
            batch,
            self.state,
            now,
            ruleset=self.ruleset,
            overrides=self.contexts,
            ecg_analyzer=fake_analyze,
        )
        self.alerts += out
        return out

    def tick(self, now: datetime) -> list[Alert]:
        return self.feed([], now)


def events(alerts: Iterable[Alert]) -> list[tuple[str, str, str]]:
    return [(a.rule_id, a.severity.label, a.state.value) for a in alerts]
