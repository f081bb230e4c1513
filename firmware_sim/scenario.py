"""Scripted patient timelines → ``vitals`` readings (all ``simulated=True``).

A scenario file (``firmware_sim/scenarios/*.toml``) states a patient, a start instant, a
timezone and quiet hours, a timeline of readings (times relative to the start), user actions
(snooze, gateway restart) and the exact alert sequence the rule engine must produce::

    [scenario]
    name = "night_hypo"; patient = "sim-night-hypo"; start = "2026-11-20T13:00:00Z"
    timezone = "Asia/Shanghai"; quiet_hours = [{ start = "22:00", end = "07:00" }]
    tick = "1m"; duration = "3h"
    [[glucose]]  at = "0m"; every = "5m"; mg_dl = [120, 100, 80]; cgm = true
    [[bp]]       at = "10m"; systolic = 186; diastolic = 104
    [[heart_rate]] at = "0m"; every = "1s"; count = 600; bpm = 120
    [[ecg]]      at = "0m"; duration = "60s"; rhythm = "af"; strip = "10s"
    [[action]]   at = "40m"; do = "snooze"; rule = "glucose_low"; for = "30m"
    [[expect]]   at = "25m"; rule = "glucose_low"; severity = "urgent"; state = "open"

ECG strips are synthesised from an RR specification: each beat is a Gaussian-bump QRS (with
small P and T waves in sinus rhythm, no P wave and an irregular RR in AF), plus optional
noise. This package may import only ``vitals`` (and ``device_drivers``).
"""

from __future__ import annotations

import math
import random
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

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
from vitals.units import GlucoseUnit, to_mgdl

SCENARIO_DIR = Path(__file__).with_name("scenarios")
_DUR = re.compile(r"^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?$")
_DEVICES = {
    "glucose_cgm": DeviceRef(make="HomeRPM-sim", model="CGM", serial="SIM-CGM-1"),
    "glucose_meter": DeviceRef(make="HomeRPM-sim", model="Meter", serial="SIM-BGM-1"),
    "bp": DeviceRef(make="HomeRPM-sim", model="Cuff", serial="SIM-BPM-1"),
    "heart_rate": DeviceRef(make="HomeRPM-sim", model="Strap", serial="SIM-HRM-1"),
    "ecg": DeviceRef(make="HomeRPM-sim", model="ECG", serial="SIM-ECG-1"),
}


class ScenarioError(ValueError):
    def __init__(self, file: str, where: str, reason: str) -> None:
        super().__init__(f"{file}: {where}: {reason}")


def duration_s(text: object) -> float:
    if isinstance(text, int | float) and not isinstance(text, bool):
        return float(text)
    m = _DUR.match(str(text).replace(" ", ""))
    if not m or not any(m.groups()):
        raise ValueError(f"bad duration {text!r}")
    h, mi, s = (float(g) if g else 0.0 for g in m.groups())
    return h * 3600 + mi * 60 + s


@dataclass(frozen=True)
class Action:
    at: datetime
    do: str  # "snooze" | "unsnooze" | "restart"
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Expectation:
    at: datetime
    rule_id: str
    severity: str
    state: str


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    patient: str
    start: datetime
    timezone: str
    context: Mapping[str, Any]  # patient context for the engine (timezone, quiet hours, ...)
    profile: str | None
    tick_s: float
    duration_s: float
    readings: tuple[ReadingBase, ...]
    actions: tuple[Action, ...]
    expected: tuple[Expectation, ...]
    #: playable into a running simulated home by ``homerpm sim scenario`` (firmware_sim.home)
    live: bool = False

    def ticks(self) -> list[datetime]:
        n = int(self.duration_s // self.tick_s)
        return [self.start + timedelta(seconds=i * self.tick_s) for i in range(n + 1)]

    @staticmethod
    def arrival(reading: ReadingBase) -> datetime:
        """When the gateway has the reading: a strip only once it is complete."""
        if isinstance(reading, EcgStrip):
            return reading.start + timedelta(seconds=reading.duration_s)
        return reading.measured_at


def _times(
    file: str, where: str, item: Mapping[str, Any], start: datetime, n: int
) -> list[datetime]:
    try:
        at = duration_s(item.get("at", 0))
        every = duration_s(item.get("every", 0))
    except ValueError as exc:
        raise ScenarioError(file, where, str(exc)) from None
    if n > 1 and every <= 0:
        raise ScenarioError(file, where, "a series needs 'every'")
    return [start + timedelta(seconds=at + i * every) for i in range(n)]


def _values(item: Mapping[str, Any], key: str) -> list[float]:
    v = item[key]
    if isinstance(v, list):
        return [float(x) for x in v]
    return [float(v)] * int(item.get("count", 1))


def _base(patient: str, device: str, at: datetime, seq: int) -> dict[str, Any]:
    return {"msg_id": new_msg_id(at), "patient": patient, "device": _DEVICES[device],
            "measured_at": at, "received_at": at, "simulated": True, "seq": seq}


def synth_ecg(rr_s: Sequence[float], fs: float, *, rhythm: str, noise_uv: float,
              rng: random.Random, duration_s: float, first_beat_s: float = 0.3) -> list[int]:
    """Integer-µV single-lead ECG with Gaussian-bump P/QRS/T at the given RR intervals."""
    n = round(duration_s * fs)
    x = [0.0] * n
    t = first_beat_s
    beats: list[float] = []
    for rr in rr_s:
        if t >= duration_s:
            break
        beats.append(t)
        t += rr

    def bump(center: float, amp: float, width: float) -> None:
        lo = max(0, int((center - 4 * width) * fs))
        hi = min(n, int((center + 4 * width) * fs) + 1)
        for i in range(lo, hi):
            d = i / fs - center
            x[i] += amp * math.exp(-0.5 * (d / width) ** 2)

    for b in beats:
        if rhythm != "af":
            bump(b - 0.16, 120.0, 0.025)  # P wave (absent in AF)
        bump(b - 0.025, -80.0, 0.008)  # Q
        bump(b, 1200.0, 0.012)  # R
        bump(b + 0.03, -200.0, 0.010)  # S
        bump(b + 0.28, 300.0, 0.05)  # T
    if rhythm == "af":  # fibrillatory baseline
        ph = rng.uniform(0, 2 * math.pi)
        for i in range(n):
            x[i] += 40.0 * math.sin(2 * math.pi * 6.0 * i / fs + ph)
    if noise_uv > 0:  # broadband noise plus motion-artefact spikes
        for i in range(n):
            x[i] += rng.gauss(0.0, noise_uv)
        for _ in range(int(duration_s)):
            c = rng.uniform(0, duration_s)
            bump(c, rng.choice((-1, 1)) * noise_uv * 4, 0.02)
    return [round(v) for v in x]


def _rr_series(item: Mapping[str, Any], rng: random.Random, total_s: float) -> list[float]:
    mean = float(item.get("rr_mean", 0.8))
    rhythm = str(item.get("rhythm", "sinus"))
    out: list[float] = []
    acc = 0.0
    while acc < total_s + 2:
        if "rr" in item:  # explicit RR list, repeated
            rr = float(item["rr"][len(out) % len(item["rr"])])
        elif rhythm == "af":  # irregularly irregular
            rr = min(1.6, max(0.33, rng.gauss(mean, float(item.get("rr_sd", 0.18)))))
        else:
            rr = rng.gauss(mean, float(item.get("rr_sd", 0.015)))
        out.append(rr)
        acc += rr
    return out


def _ecg(file: str, i: int, item: Mapping[str, Any], patient: str, start: datetime,
         seq0: int) -> list[EcgStrip]:
    fs = float(item.get("fs", 250))
    total = duration_s(item.get("duration", "60s"))
    strip = duration_s(item.get("strip", "10s"))
    rng = random.Random(int(item.get("seed", 1)))
    rr = _rr_series(item, rng, total)
    signal = synth_ecg(rr, fs, rhythm=str(item.get("rhythm", "sinus")),
                       noise_uv=float(item.get("noise_uv", 0)), rng=rng, duration_s=total)
    t0 = _times(file, f"ecg[{i}]", item, start, 1)[0]
    per = round(strip * fs)
    strips = []
    for k, off in enumerate(range(0, len(signal) - per + 1, per)):
        at = t0 + timedelta(seconds=off / fs)
        strips.append(EcgStrip(**_base(patient, "ecg", at, seq0 + k), fs_hz=fs, start=at,
                               samples_uv=tuple(signal[off:off + per])))
    return strips


def _readings(
    file: str, doc: Mapping[str, Any], patient: str, start: datetime
) -> list[ReadingBase]:
    out: list[ReadingBase] = []
    for i, g in enumerate(doc.get("glucose", [])):
        unit = GlucoseUnit(g.get("unit", "mg/dL"))
        key = "mg_dl" if "mg_dl" in g else "value"
        vals = _values(g, key)
        cgm = bool(g.get("cgm", True))
        for k, (at, v) in enumerate(zip(_times(file, f"glucose[{i}]", g, start, len(vals)), vals,
                                        strict=True)):
            out.append(Glucose(
                **_base(patient, "glucose_cgm" if cgm else "glucose_meter", at, len(out) + k),
                mg_dl=to_mgdl(v, unit), value_received=v, unit_received=unit,
                sample_type=GlucoseSampleType.INTERSTITIAL_FLUID if cgm
                else GlucoseSampleType.CAPILLARY_PLASMA))
    for i, b in enumerate(doc.get("bp", [])):
        sys_v, dia_v = _values(b, "systolic"), _values(b, "diastolic")
        for k, at in enumerate(_times(file, f"bp[{i}]", b, start, len(sys_v))):
            out.append(BloodPressure(**_base(patient, "bp", at, len(out) + k), systolic=sys_v[k],
                                     diastolic=dia_v[k], pulse=b.get("pulse")))
    for i, h in enumerate(doc.get("heart_rate", [])):
        vals = _values(h, "bpm")
        for k, at in enumerate(_times(file, f"heart_rate[{i}]", h, start, len(vals))):
            out.append(HeartRate(**_base(patient, "heart_rate", at, len(out) + k), bpm=vals[k],
                                 sensor_contact=True))
    for i, e in enumerate(doc.get("ecg", [])):
        out.extend(_ecg(file, i, e, patient, start, len(out)))
    return sorted(out, key=lambda r: (Scenario.arrival(r), r.msg_id))


def load_scenario(path: str | Path) -> Scenario:
    p = Path(path)
    file = p.name
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
        head = doc["scenario"]
        start = datetime.fromisoformat(str(head["start"]).replace("Z", "+00:00")).astimezone(UTC)
        patient = str(head["patient"])
        tz = str(head.get("timezone", "UTC"))
        context: dict[str, Any] = {"timezone": tz, **doc.get("context", {})}
        if "quiet_hours" in head:
            context["quiet_hours"] = list(head["quiet_hours"])
        actions = tuple(
            Action(start + timedelta(seconds=duration_s(a["at"])), str(a["do"]),
                   {k: v for k, v in a.items() if k not in ("at", "do")})
            for a in doc.get("action", [])
        )
        expected = tuple(
            Expectation(start + timedelta(seconds=duration_s(x["at"])), str(x["rule"]),
                        str(x["severity"]), str(x["state"]))
            for x in doc.get("expect", [])
        )
        return Scenario(
            name=str(head.get("name", p.stem)), description=str(head.get("description", "")),
            patient=patient, start=start, timezone=tz, context=context,
            profile=head.get("profile"), tick_s=duration_s(head.get("tick", "1m")),
            duration_s=duration_s(head["duration"]),
            readings=tuple(_readings(file, doc, patient, start)),
            actions=actions, expected=expected, live=bool(head.get("live", False)),
        )
    except ScenarioError:
        raise
    except (KeyError, ValueError, TypeError, tomllib.TOMLDecodeError) as exc:
        raise ScenarioError(file, "scenario", f"{type(exc).__name__}: {exc}") from None


def scenario_files() -> list[Path]:
    return sorted(SCENARIO_DIR.glob("*.toml"))


def live_scenarios() -> dict[str, Scenario]:
    """The scenarios a running simulated home can play, by name (``homerpm sim scenario``)."""
    # Only the header decides; the other files (long synthetic ECG) are not synthesised.
    live = [p for p in scenario_files()
            if tomllib.loads(p.read_text(encoding="utf-8")).get("scenario", {}).get("live")]
    return {s.name: s for s in sorted(map(load_scenario, live), key=lambda s: s.name)}
