"""Glucose records (0x2A18 + optional 0x2A34) -> ``vitals.Glucose``, and the joiner that
pairs a measurement with the context notification that follows it.

* Units: kg/L x 100 000 = mg/dL, mol/L x 1000 = mmol/L; the value and unit as the meter
  displays them are kept (``value_received``/``unit_received``), ``mg_dl`` is canonical.
* LO/HI: a -INF/+INF concentration or Sensor Status bit 6/5 ("lower/higher than the
  device can process") sets ``range_flag``. A finite value with the flag is kept as the
  bound the meter sent; an infinite one becomes ``limits_mg_dl`` — by default (20, 500),
  chosen so that "< 20" and "> 500" are true for the common home meters (LO limits
  10-20 mg/dL, HI limits 500-600 mg/dL). Pass the model's own limits when known.
* Control solution (type 10 or location 4) is flagged ``control_solution``.
* Results the meter marks unreliable (strip/sample/sensor/temperature/read faults), NaN,
  NRes, a missing concentration or impossible values raise :class:`MappingError` — the
  caller keeps the raw record for a human.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from device_drivers._mapping import build
from device_drivers.codecs.glucose import (
    GlucoseContext,
    GlucoseLocation,
    GlucoseMeasurement,
    GlucoseType,
    SensorStatus,
    concentration_display,
)
from device_drivers.codecs.numbers import MderSpecial
from device_drivers.device_time import measured_at
from device_drivers.errors import MappingError
from vitals import readings as v
from vitals.units import GlucoseUnit, from_mgdl, to_mgdl

DEFAULT_LIMITS_MG_DL = (20.0, 500.0)

#: Status bits after which the number is not trustworthy.
UNRELIABLE = (
    SensorStatus.SENSOR_MALFUNCTION
    | SensorStatus.SAMPLE_SIZE_INSUFFICIENT
    | SensorStatus.STRIP_INSERTION_ERROR
    | SensorStatus.STRIP_TYPE_INCORRECT
    | SensorStatus.TEMPERATURE_TOO_HIGH
    | SensorStatus.TEMPERATURE_TOO_LOW
    | SensorStatus.READ_INTERRUPTED
    | SensorStatus.GENERAL_DEVICE_FAULT
)

_TYPES = {t: v.GlucoseSampleType[t.name] for t in GlucoseType}
_LOCATIONS = {
    GlucoseLocation.FINGER: v.GlucoseLocation.FINGER,
    GlucoseLocation.ALTERNATE_SITE_TEST: v.GlucoseLocation.ALTERNATE_SITE,
    GlucoseLocation.EARLOBE: v.GlucoseLocation.EARLOBE,
    GlucoseLocation.CONTROL_SOLUTION: v.GlucoseLocation.CONTROL_SOLUTION,
    GlucoseLocation.NOT_AVAILABLE: v.GlucoseLocation.NOT_AVAILABLE,
}


def user_facing_time(m: GlucoseMeasurement) -> dt.datetime | None:
    """Base time + time offset (minutes), or None when the base date is unknown."""
    base = m.base_time.to_naive()
    if base is None:
        return None
    return base + dt.timedelta(minutes=m.time_offset_min or 0)


def _range_flag(m: GlucoseMeasurement) -> v.RangeFlag | None:
    status = m.sensor_status or SensorStatus(0)
    low = m.concentration is MderSpecial.NEGATIVE_INFINITY or SensorStatus.RESULT_TOO_LOW in status
    high = (
        m.concentration is MderSpecial.POSITIVE_INFINITY or SensorStatus.RESULT_TOO_HIGH in status
    )
    if low and high:
        raise MappingError("record says both lower and higher than the meter can process")
    return v.RangeFlag.LOW if low else v.RangeFlag.HIGH if high else None


def glucose_to_reading(
    m: GlucoseMeasurement,
    context: GlucoseContext | None = None,
    *,
    msg_id: str,
    patient: str,
    device: v.DeviceRef,
    received_at: dt.datetime,
    simulated: bool,
    clock_offset: dt.timedelta | None = None,
    device_tz: dt.tzinfo | None = None,
    limits_mg_dl: tuple[float, float] = DEFAULT_LIMITS_MG_DL,
) -> v.Glucose:
    """Map a glucose record (with its context, if any) to ``vitals.Glucose``."""
    if context is not None and context.sequence != m.sequence:
        raise MappingError(f"context #{context.sequence} does not belong to record #{m.sequence}")
    if m.concentration is None:
        raise MappingError(f"record #{m.sequence} carries no concentration")
    unreliable = (m.sensor_status or SensorStatus(0)) & UNRELIABLE
    if unreliable:
        names = ", ".join(s.name or "" for s in SensorStatus if s in unreliable)
        raise MappingError(f"record #{m.sequence}: meter flagged the result unreliable ({names})")
    unit = GlucoseUnit.MMOL_L if m.mol_per_l else GlucoseUnit.MG_DL
    range_flag = _range_flag(m)
    shown = concentration_display(m)  # kg/L x 10^5 = mg/dL, mol/L x 10^3 = mmol/L, exact
    if shown is not None:
        value_received = float(shown)
        mg_dl = to_mgdl(value_received, unit)
    elif range_flag is not None and m.concentration in (
        MderSpecial.NEGATIVE_INFINITY,
        MderSpecial.POSITIVE_INFINITY,
    ):
        mg_dl = limits_mg_dl[0] if range_flag is v.RangeFlag.LOW else limits_mg_dl[1]
        value_received = from_mgdl(mg_dl, unit)
    else:
        raise MappingError(f"record #{m.sequence}: concentration is {m.concentration.value}")
    local = user_facing_time(m)
    sample_type = m.type_enum
    location = m.location_enum
    meal = context.meal_enum if context is not None else None
    return build(
        v.Glucose,
        msg_id=msg_id,
        patient=patient,
        device=device,
        measured_at=measured_at(
            local, received_at=received_at, clock_offset=clock_offset, device_tz=device_tz
        ),
        device_time=(
            f"{m.base_time.isoformat()} offset={m.time_offset_min:+d}min"
            if m.time_offset_min is not None
            else m.base_time.isoformat()
        ),
        received_at=received_at,
        simulated=simulated,
        seq=m.sequence,
        mg_dl=mg_dl,
        value_received=value_received,
        unit_received=unit,
        sample_type=_TYPES[sample_type] if sample_type is not None else None,
        sample_location=_LOCATIONS[location] if location is not None else None,
        meal=v.MealContext[meal.name] if meal is not None else None,
        range_flag=range_flag,
        control_solution=m.is_control_solution,
    )


@dataclass
class GlucoseRecordJoiner:
    """Pairs each 0x2A18 record with the 0x2A34 context that follows it (flag bit 4).

    ``add_measurement``/``add_context`` return the records that are complete; ``flush``
    (call at RACP "done" or disconnect) releases records whose context never came.
    A context without a pending record is returned by ``orphans`` for logging.
    """

    _pending: dict[int, GlucoseMeasurement] = field(default_factory=dict)
    orphans: list[GlucoseContext] = field(default_factory=list)

    def add_measurement(
        self, m: GlucoseMeasurement
    ) -> list[tuple[GlucoseMeasurement, GlucoseContext | None]]:
        done = self.flush()  # a new record means earlier ones got no context
        if m.context_follows:
            self._pending[m.sequence] = m
            return done
        return [*done, (m, None)]

    def add_context(
        self, c: GlucoseContext
    ) -> list[tuple[GlucoseMeasurement, GlucoseContext | None]]:
        m = self._pending.pop(c.sequence, None)
        if m is None:
            self.orphans.append(c)
            return []
        return [(m, c)]

    def flush(self) -> list[tuple[GlucoseMeasurement, GlucoseContext | None]]:
        done: list[tuple[GlucoseMeasurement, GlucoseContext | None]] = [
            (m, None) for m in self._pending.values()
        ]
        self._pending.clear()
        return done
