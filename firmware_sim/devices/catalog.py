"""Device models by kind, pre-filled with plausible seeded sample records (CLI, demos)."""

from __future__ import annotations

import datetime as dt
import random

from device_drivers.codecs.glucose import Meal
from firmware_sim.devices.bp_cuff import BpCuff as ScenarioCuff
from firmware_sim.devices.bp_gatt import GattBpCuff
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


def add_measurement(
    model: DeviceModel, rng: random.Random, at: dt.datetime, scenario: str = "normal"
) -> str:
    """The patient takes one more measurement (for ``--interval``); returns a summary.
    Blood pressure values come from the scenario cuff (``bp_cuff.BpCuff``)."""
    if isinstance(model, GattBpCuff):
        record = ScenarioCuff(scenario, seed=rng.randrange(2**32), clock=lambda: at).measure()
        model.measure(record)
        return f"BP {record.systolic}/{record.diastolic}"
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
    now: dt.datetime | None = None, ecg_record: str | None = None, scenario: str = "normal",
) -> DeviceModel:
    rng = random.Random(seed)
    at = (now or dt.datetime.now()).replace(microsecond=0)
    kw = {"address": address} if address else {}
    model: DeviceModel
    if kind == "bp":
        model = GattBpCuff(**kw)  # type: ignore[arg-type]
    elif kind == "glucose":
        model = GlucoseMeter(clock=at, **kw)  # type: ignore[arg-type]  # set, like its records
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
        add_measurement(model, rng, when, scenario)
    return model
