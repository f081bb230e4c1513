"""GATT-level values -> ``vitals`` domain readings.

Time rule (device clocks are local wall-clock time with no zone):

* ``clock_offset`` is what the gateway measured when it connected:
  ``gateway UTC now - device clock now read as if it were UTC`` (see :func:`clock_offset`).
  It folds the device's timezone and its drift into one number, so
  ``measured_at = device time (as UTC) + clock_offset``.
* Without an offset the device time is taken to be in ``device_tz`` (default: the
  gateway's local zone — a cuff set up by the same household).
* A missing or partly unknown device time (year/month/day 0) gives
  ``measured_at = received_at``.
The raw device time is always kept in ``device_time``.

Special values never become numbers: a NaN/INF systolic is a :class:`MappingError`;
an optional field (MAP, pulse) that is a special value becomes ``None``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TypeVar

from pydantic import ValidationError

from device_drivers.codecs.bp import (
    UNKNOWN_USER,
    BloodPressureMeasurement,
    IntermediateCuffPressure,
    PulseRateRange,
)
from device_drivers.codecs.date_time import DateTime
from device_drivers.codecs.numbers import Mder, MderFloat
from device_drivers.errors import MappingError
from vitals.readings import BloodPressure, BpStatus, DeviceRef
from vitals.units import to_mmhg

T = TypeVar("T")


def clock_offset(device_now: DateTime | dt.datetime, gateway_now: dt.datetime) -> dt.timedelta:
    """Offset to add to a device wall-clock time (read as UTC) to get true UTC."""
    naive = device_now.to_naive() if isinstance(device_now, DateTime) else device_now
    if naive is None:
        raise ValueError("device clock value has an unknown date")
    if gateway_now.tzinfo is None:
        raise ValueError("gateway_now must be timezone-aware")
    return gateway_now.astimezone(dt.UTC) - naive.replace(tzinfo=dt.UTC)


def measured_at(
    device_time: DateTime | dt.datetime | None,
    *,
    received_at: dt.datetime,
    clock_offset: dt.timedelta | None = None,
    device_tz: dt.tzinfo | None = None,
) -> dt.datetime:
    """UTC measurement instant from a zone-less device time (rule in the module doc)."""
    if received_at.tzinfo is None:
        raise ValueError("received_at must be timezone-aware")
    naive = device_time.to_naive() if isinstance(device_time, DateTime) else device_time
    if naive is None:
        return received_at.astimezone(dt.UTC)
    if naive.tzinfo is not None:  # already an instant (e.g. PMD epoch time)
        base = naive.astimezone(dt.UTC)
        return base + clock_offset if clock_offset is not None else base
    if clock_offset is not None:
        return naive.replace(tzinfo=dt.UTC) + clock_offset
    local = naive.replace(tzinfo=device_tz) if device_tz is not None else naive.astimezone()
    return local.astimezone(dt.UTC)


def number(value: Mder | None, what: str) -> float:
    """A required value: a finite number, or MappingError naming the special value."""
    if isinstance(value, MderFloat):
        return value.value
    shown = "absent" if value is None else value.value
    raise MappingError(f"{what} is {shown}, not a number")


def optional_number(value: Mder | None) -> float | None:
    """An optional value: specials (NaN, NRes, ±INF) mean 'not available'."""
    return value.value if isinstance(value, MderFloat) else None


def _bp_status(m: BloodPressureMeasurement) -> frozenset[BpStatus]:
    if m.status is None:
        return frozenset()
    s = m.status
    found = set()
    if s.body_movement:
        found.add(BpStatus.BODY_MOVEMENT)
    if s.cuff_too_loose:
        found.add(BpStatus.CUFF_TOO_LOOSE)
    if s.irregular_pulse:
        found.add(BpStatus.IRREGULAR_PULSE)
    if s.pulse_rate_range is PulseRateRange.EXCEEDS_UPPER_LIMIT:
        found.add(BpStatus.PULSE_RATE_HIGH)
    elif s.pulse_rate_range is PulseRateRange.BELOW_LOWER_LIMIT:
        found.add(BpStatus.PULSE_RATE_LOW)
    if s.improper_position:
        found.add(BpStatus.IMPROPER_POSITION)
    return frozenset(found)


def _build(factory: Callable[..., T], **fields: object) -> T:
    try:
        return factory(**fields)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise MappingError(f"reading out of bounds: {problems}") from exc


def bp_to_reading(
    m: BloodPressureMeasurement,
    *,
    msg_id: str,
    patient: str,
    device: DeviceRef,
    received_at: dt.datetime,
    simulated: bool,
    clock_offset: dt.timedelta | None = None,
    device_tz: dt.tzinfo | None = None,
) -> BloodPressure:
    """Map a Blood Pressure Measurement to ``vitals.BloodPressure`` (mmHg, kPa converted,
    unit as received kept). Raises MappingError for an intermediate cuff pressure, a
    non-numeric systolic/diastolic or values outside the domain bounds."""
    if isinstance(m, IntermediateCuffPressure):
        raise MappingError("an intermediate cuff pressure is not a blood pressure result")
    systolic = number(m.systolic, "systolic")
    diastolic = number(m.diastolic, "diastolic")
    mean_arterial = optional_number(m.mean_arterial)
    return _build(
        BloodPressure,
        msg_id=msg_id,
        patient=patient,
        device=device,
        measured_at=measured_at(
            m.timestamp, received_at=received_at, clock_offset=clock_offset, device_tz=device_tz
        ),
        device_time=m.timestamp.isoformat() if m.timestamp is not None else None,
        received_at=received_at,
        simulated=simulated,
        systolic=to_mmhg(systolic, m.unit),
        diastolic=to_mmhg(diastolic, m.unit),
        mean_arterial=None if mean_arterial is None else to_mmhg(mean_arterial, m.unit),
        pulse=optional_number(m.pulse_rate),
        unit_received=m.unit,
        status=_bp_status(m),
        user_id=None if m.user_id in (None, UNKNOWN_USER) else m.user_id,
    )
