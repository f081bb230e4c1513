"""Hypothesis strategies producing valid GATT-level values for round-trip tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st

from device_drivers.codecs.bp import (
    BP_RFU_FLAGS,
    BloodPressureMeasurement,
    BpFlag,
    BpMeasurementStatus,
)
from device_drivers.codecs.date_time import DateTime
from device_drivers.codecs.numbers import MderFloat, MderSpecial
from device_drivers.quirks import NO_QUIRKS, Quirks
from vitals.units import PressureUnit

_SFLOAT_SPECIALS = [
    MderSpecial.NAN,
    MderSpecial.NRES,
    MderSpecial.POSITIVE_INFINITY,
    MderSpecial.NEGATIVE_INFINITY,
]


def sfloat_numbers() -> st.SearchStrategy[MderFloat]:
    return st.builds(MderFloat, st.integers(-2045, 2045), st.integers(-8, 7))


def sfloats() -> st.SearchStrategy[Any]:
    """Any decodable SFLOAT: finite numbers and every non-reserved special value."""
    return st.one_of(sfloat_numbers(), st.sampled_from(_SFLOAT_SPECIALS))


def float32_numbers() -> st.SearchStrategy[MderFloat]:
    return st.builds(MderFloat, st.integers(-(2**23) + 3, 2**23 - 3), st.integers(-128, 127))


def float32s() -> st.SearchStrategy[Any]:
    return st.one_of(float32_numbers(), st.sampled_from(_SFLOAT_SPECIALS))


@st.composite
def date_times(draw: st.DrawFn) -> DateTime:
    if draw(st.booleans()):
        value = draw(
            st.datetimes(min_value=dt.datetime(1582, 1, 1), max_value=dt.datetime(9999, 12, 31))
        )
        return DateTime.from_datetime(value)
    # partly unknown dates (0 = unknown) are legal too
    return DateTime(
        draw(st.sampled_from([0, 2024])),
        draw(st.integers(0, 12)),
        draw(st.integers(0, 28)),
        draw(st.integers(0, 23)),
        draw(st.integers(0, 59)),
        draw(st.integers(0, 59)),
    )


@st.composite
def bp_measurements(
    draw: st.DrawFn,
    cls: type[BloodPressureMeasurement] = BloodPressureMeasurement,
    quirks: Quirks = NO_QUIRKS,
) -> BloodPressureMeasurement:
    timestamp = draw(st.none() | date_times())
    pulse = draw(st.none() | sfloats())
    user_id = (
        draw(st.integers(0, 255))
        if quirks.bp_user_id_always_present
        else draw(st.none() | st.integers(0, 255))
    )
    status = draw(st.none() | st.builds(BpMeasurementStatus, st.integers(0, 0xFFFF)))
    unit = draw(st.sampled_from(PressureUnit))
    mean_arterial = draw(sfloats())
    if quirks.bp_zero_mean_arterial_is_absent:
        mean_arterial = draw(
            st.just(MderSpecial.NAN)
            | sfloat_numbers().filter(lambda v: v.mantissa != 0)
            | st.sampled_from(_SFLOAT_SPECIALS[1:])
        )
    flags = draw(st.integers(0, 0xFF)) & BP_RFU_FLAGS
    flags |= BpFlag.KPA if unit is PressureUnit.KPA else 0
    flags |= BpFlag.TIME_STAMP if timestamp is not None else 0
    flags |= BpFlag.PULSE_RATE if pulse is not None else 0
    if quirks.bp_user_id_always_present:
        flags |= draw(st.sampled_from([0, BpFlag.USER_ID]))
    else:
        flags |= BpFlag.USER_ID if user_id is not None else 0
    flags |= BpFlag.MEASUREMENT_STATUS if status is not None else 0
    return cls(
        unit=unit,
        systolic=draw(sfloats()),
        diastolic=draw(sfloats()),
        mean_arterial=mean_arterial,
        timestamp=timestamp,
        pulse_rate=pulse,
        user_id=user_id,
        status=status,
        flags=int(flags),
    )
