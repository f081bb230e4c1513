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


# --- glucose ---------------------------------------------------------------------------

from device_drivers.codecs import glucose as gl  # noqa: E402
from device_drivers.codecs import heart_rate as hr  # noqa: E402
from device_drivers.codecs import plx, pmd, racp, weight  # noqa: E402

_u8 = st.integers(0, 0xFF)
_u16 = st.integers(0, 0xFFFF)
_nibble = st.integers(0, 15)


@st.composite
def glucose_measurements(draw: st.DrawFn) -> gl.GlucoseMeasurement:
    has_conc = draw(st.booleans())
    offset = draw(st.none() | st.integers(-32768, 32767))
    status = draw(st.none() | st.builds(gl.SensorStatus, _u16))
    mol, context = draw(st.booleans()), draw(st.booleans())
    flags = draw(_u8) & 0xE0
    flags |= gl.GlucoseFlag.TIME_OFFSET if offset is not None else 0
    flags |= gl.GlucoseFlag.CONCENTRATION if has_conc else 0
    flags |= gl.GlucoseFlag.MOL_PER_L if mol else 0
    flags |= gl.GlucoseFlag.SENSOR_STATUS if status is not None else 0
    flags |= gl.GlucoseFlag.CONTEXT_FOLLOWS if context else 0
    return gl.GlucoseMeasurement(
        sequence=draw(_u16),
        base_time=draw(date_times()),
        time_offset_min=offset,
        concentration=draw(sfloats()) if has_conc else None,
        mol_per_l=mol,
        sample_type=draw(_nibble) if has_conc else None,
        sample_location=draw(_nibble) if has_conc else None,
        sensor_status=status,
        context_follows=context,
        flags=int(flags),
    )


@st.composite
def glucose_contexts(draw: st.DrawFn) -> gl.GlucoseContext:
    carbs = draw(st.booleans())
    tester = draw(st.booleans())
    exercise = draw(st.booleans())
    medication = draw(st.booleans())
    return gl.GlucoseContext(
        sequence=draw(_u16),
        extended_flags=draw(st.none() | _u8),
        carbohydrate_id=draw(_u8) if carbs else None,
        carbohydrate_kg=draw(sfloats()) if carbs else None,
        meal=draw(st.none() | _u8),
        tester=draw(_nibble) if tester else None,
        health=draw(_nibble) if tester else None,
        exercise_duration_s=draw(_u16) if exercise else None,
        exercise_intensity_pct=draw(_u8) if exercise else None,
        medication_id=draw(_u8) if medication else None,
        medication=draw(sfloats()) if medication else None,
        medication_litres=draw(st.booleans()) if medication else False,
        hba1c_pct=draw(st.none() | sfloats()),
    )


@st.composite
def racp_values(draw: st.DrawFn) -> racp.RacpValue:
    kind = draw(st.sampled_from(["request", "count", "response"]))
    if kind == "count":
        width = draw(st.sampled_from([1, 2, 4]))
        return racp.RacpNumberOfRecords(draw(st.integers(0, 2 ** (8 * width) - 1)), width)
    if kind == "response":
        return racp.RacpResponse(draw(_u8), draw(st.sampled_from(racp.RacpResponseCode)))
    op = draw(st.sampled_from([*sorted(racp._RECORD_OPS), racp.RacpOpCode.ABORT_OPERATION]))
    if op is racp.RacpOpCode.ABORT_OPERATION:
        return racp.abort()
    operator = draw(st.sampled_from(list(racp.RacpOperator)[1:]))
    count = racp._OPERAND_COUNT.get(operator, 0)
    if count == 0:
        return racp.RacpRequest(op, operator)
    filter_type = draw(st.sampled_from(racp.RacpFilter))
    item = _u16 if filter_type is racp.RacpFilter.SEQUENCE_NUMBER else date_times()
    operand = tuple(draw(item) for _ in range(count))
    return racp.RacpRequest(op, operator, filter_type, operand)


@st.composite
def heart_rates(draw: st.DrawFn) -> hr.HeartRateMeasurement:
    wide = draw(st.booleans())
    value = draw(_u16 if wide else _u8)
    contact = draw(st.sampled_from(hr.SensorContact))
    rr = tuple(draw(st.lists(_u16, max_size=9)))
    flags = draw(_u8) & 0xE0
    flags |= hr.HR_UINT16 if wide else 0
    if contact is hr.SensorContact.DETECTED:
        flags |= 0x06
    elif contact is hr.SensorContact.NOT_DETECTED:
        flags |= 0x04
    else:
        flags |= draw(st.sampled_from([0, 0x02]))
    energy = draw(st.none() | _u16)
    flags |= hr.HR_ENERGY if energy is not None else 0
    flags |= hr.HR_RR if rr or draw(st.booleans()) else 0
    return hr.HeartRateMeasurement(value, contact, energy, rr, flags)


@st.composite
def plx_spot_checks(draw: st.DrawFn) -> plx.PlxSpotCheck:
    clock = draw(st.booleans())
    m = plx.PlxSpotCheck(
        spo2=draw(sfloats()),
        pulse_rate=draw(sfloats()),
        timestamp=draw(st.none() | date_times()),
        measurement_status=draw(st.none() | st.builds(plx.PlxMeasurementStatus, _u16)),
        device_status=draw(st.none() | st.builds(plx.PlxDeviceStatus, st.integers(0, 2**24 - 1))),
        pulse_amplitude_index=draw(st.none() | sfloats()),
        clock_not_set=clock,
    )
    flags = draw(_u8) & 0xE0
    flags |= plx.SPOT_TIMESTAMP if m.timestamp is not None else 0
    flags |= plx.SPOT_MEASUREMENT_STATUS if m.measurement_status is not None else 0
    flags |= plx.SPOT_DEVICE_STATUS if m.device_status is not None else 0
    flags |= plx.SPOT_PAI if m.pulse_amplitude_index is not None else 0
    flags |= plx.SPOT_CLOCK_NOT_SET if clock else 0
    return plx.PlxSpotCheck(**{**_fields(m), "flags": flags})


@st.composite
def plx_continuous(draw: st.DrawFn) -> plx.PlxContinuous:
    fast, slow = draw(st.booleans()), draw(st.booleans())
    m = plx.PlxContinuous(
        spo2=draw(sfloats()),
        pulse_rate=draw(sfloats()),
        spo2_fast=draw(sfloats()) if fast else None,
        pulse_rate_fast=draw(sfloats()) if fast else None,
        spo2_slow=draw(sfloats()) if slow else None,
        pulse_rate_slow=draw(sfloats()) if slow else None,
        measurement_status=draw(st.none() | st.builds(plx.PlxMeasurementStatus, _u16)),
        device_status=draw(st.none() | st.builds(plx.PlxDeviceStatus, st.integers(0, 2**24 - 1))),
        pulse_amplitude_index=draw(st.none() | sfloats()),
    )
    flags = draw(_u8) & 0xE0
    flags |= plx.CONT_FAST if fast else 0
    flags |= plx.CONT_SLOW if slow else 0
    flags |= plx.CONT_MEASUREMENT_STATUS if m.measurement_status is not None else 0
    flags |= plx.CONT_DEVICE_STATUS if m.device_status is not None else 0
    flags |= plx.CONT_PAI if m.pulse_amplitude_index is not None else 0
    return plx.PlxContinuous(**{**_fields(m), "flags": flags})


@st.composite
def weights(draw: st.DrawFn) -> weight.WeightMeasurement:
    imperial = draw(st.booleans())
    bmi = draw(st.booleans())
    m = weight.WeightMeasurement(
        imperial=imperial,
        weight_raw=draw(_u16),
        timestamp=draw(st.none() | date_times()),
        user_id=draw(st.none() | _u8),
        bmi_raw=draw(_u16) if bmi else None,
        height_raw=draw(_u16) if bmi else None,
    )
    flags = draw(_u8) & 0xF0
    flags |= weight.WEIGHT_IMPERIAL if imperial else 0
    flags |= weight.WEIGHT_TIMESTAMP if m.timestamp is not None else 0
    flags |= weight.WEIGHT_USER_ID if m.user_id is not None else 0
    flags |= weight.WEIGHT_BMI_HEIGHT if bmi else 0
    return weight.WeightMeasurement(**{**_fields(m), "flags": flags})


def _fields(value: Any) -> dict[str, Any]:
    import dataclasses

    return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}


@st.composite
def pmd_settings(draw: st.DrawFn) -> pmd.Settings:
    out = []
    for setting_type in draw(st.lists(st.sampled_from(pmd.PmdSettingType), max_size=4)):
        size = pmd.SETTING_VALUE_SIZE[setting_type]
        values = tuple(draw(st.lists(st.integers(0, 2 ** (8 * size) - 1), max_size=3)))
        out.append(pmd.PmdSetting(setting_type, values))
    return tuple(out)


@st.composite
def pmd_control_points(draw: st.DrawFn) -> pmd.PmdControlPointValue:
    kind = draw(st.sampled_from(["command", "features", "response", "settings"]))
    if kind == "features":
        return pmd.PmdFeatures(draw(st.binary(min_size=1, max_size=4)))
    if kind == "settings":
        return pmd.get_settings_response(draw(pmd_settings()), draw(_u8))
    if kind == "response":
        op = draw(st.sampled_from([2, 3, 4]))
        more = draw(st.none() | _u8)
        params = draw(st.binary(max_size=6)) if more is not None else b""
        return pmd.PmdResponse(op, draw(_u8), draw(st.sampled_from(pmd.PmdStatus)), more, params)
    op_code = draw(st.sampled_from(pmd.PmdOpCode))
    settings = draw(pmd_settings()) if op_code is pmd.PmdOpCode.START else ()
    return pmd.PmdCommand(op_code, draw(_u8), settings)


@st.composite
def ecg_frames(draw: st.DrawFn) -> pmd.EcgFrame:
    samples = draw(st.lists(st.integers(-(2**23), 2**23 - 1), max_size=80))
    return pmd.ecg_frame(draw(st.integers(0, 2**64 - 1)), samples)
