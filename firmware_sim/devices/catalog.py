"""Device models by kind, pre-filled with plausible seeded sample records (CLI, demos)."""

from __future__ import annotations

import datetime as dt
import random

from device_drivers.codecs.glucose import Meal
from firmware_sim.devices.bp_gatt import BpCuff, bp_record
from firmware_sim.devices.ecg_gatt import PolarStrap, SampleSource
from firmware_sim.devices.ecg_record import RecordedEcg, mitbih_record
from firmware_sim.devices.ecg_synth import SyntheticEcg
from firmware_sim.devices.gatt_model import DeviceModel
from firmware_sim.devices.glucose_gatt import GlucoseMeter
from firmware_sim.devices.hr_gatt import HeartRateStrap
from firmware_sim.devices.plx_gatt import PulseOximeter, spot_check
from firmware_sim.devices.scale_gatt import Scale, weighing

KINDS = ("bp", "glucose", "ecg", "hr", "spo2", "scale")


def _times(n: int, now: dt.datetime) -> list[dt.datetime]:
    return [now - dt.timedelta(hours=12 * (n - i)) for i in range(n)]


def add_measurement(model: DeviceModel, rng: random.Random, at: dt.datetime) -> str:
    """The patient takes one more measurement (for ``--interval``); returns a summary."""
    if isinstance(model, BpCuff):
        sys_, dia = rng.randint(112, 150), rng.randint(70, 95)
        model.measure(bp_record(sys_, dia, rng.randint(58, 90), at=at))
        return f"BP {sys_}/{dia}"
    if isinstance(model, GlucoseMeter):
        value = rng.randint(80, 180)
        stored = model.add(value, at=at, meal=rng.choice([None, Meal.PREPRANDIAL, Meal.FASTING]))
        return f"glucose #{stored.measurement.sequence} {value} mg/dL"
    if isinstance(model, Scale):
        kg = round(rng.uniform(70, 90), 1)
        model.weigh(weighing(kg, at))
        return f"weight {kg} kg"
    if isinstance(model, PulseOximeter):
        model.spot_checks.append(spot_check(rng.randint(93, 99), rng.randint(60, 90), at))
        return "SpO2 spot check"
    return "streaming devices have nothing to store"


def make_model(
    kind: str, *, records: int = 3, seed: int = 0, address: str | None = None,
    now: dt.datetime | None = None, ecg_record: str | None = None,
) -> DeviceModel:
    rng = random.Random(seed)
    at = (now or dt.datetime.now()).replace(microsecond=0)
    kw = {"address": address} if address else {}
    model: DeviceModel
    if kind == "bp":
        model = BpCuff(**kw)  # type: ignore[arg-type]
    elif kind == "glucose":
        model = GlucoseMeter(**kw)  # type: ignore[arg-type]
    elif kind == "ecg":
        source: SampleSource = SyntheticEcg(seed=seed)
        if ecg_record is not None:  # e.g. "208": MIT-BIH from the data dir
            source = RecordedEcg.from_wfdb(mitbih_record(ecg_record))
        return PolarStrap(source, **kw)  # type: ignore[arg-type]
    elif kind == "hr":
        return HeartRateStrap(seed=seed, **kw)  # type: ignore[arg-type]
    elif kind == "spo2":
        model = PulseOximeter(**kw)  # type: ignore[arg-type]
    elif kind == "scale":
        model = Scale(**kw)  # type: ignore[arg-type]
    else:
        raise ValueError(f"unknown device kind {kind!r}; one of {', '.join(KINDS)}")
    for when in _times(records, at):
        add_measurement(model, rng, when)
    return model
