"""GATT-level values -> ``vitals`` domain readings.

Measurement times follow the rule in :mod:`device_drivers.device_time`.
Special values never become numbers: a NaN/INF primary value is a :class:`MappingError`;
an optional field (MAP, pulse, PAI) that is a special value becomes ``None``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from device_drivers._mapping import build, number, optional_number
from device_drivers.codecs.bp import (
    UNKNOWN_USER,
    BloodPressureMeasurement,
    IntermediateCuffPressure,
    PulseRateRange,
)
from device_drivers.codecs.glucose import GlucoseContext, GlucoseMeasurement
from device_drivers.codecs.heart_rate import HeartRateMeasurement, SensorContact
from device_drivers.codecs.plx import (
    PlxContinuous,
    PlxDeviceStatus,
    PlxMeasurementStatus,
    PlxSpotCheck,
)
from device_drivers.codecs.weight import WeightMeasurement
from device_drivers.device_time import clock_offset, measured_at
from device_drivers.ecg_stream import EcgSegment, ecg_to_reading
from device_drivers.errors import MappingError
from device_drivers.glucose_readings import glucose_to_reading
from vitals.readings import (
    BloodPressure,
    BodyWeight,
    BpStatus,
    DeviceRef,
    HeartRate,
    Reading,
    SpO2,
)
from vitals.units import MassUnit, to_kg, to_mmhg

__all__ = [
    "bp_to_reading",
    "clock_offset",
    "ecg_to_reading",
    "glucose_to_reading",
    "heart_rate_to_reading",
    "measured_at",
    "spo2_to_reading",
    "to_reading",
    "weight_to_reading",
]


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
    return build(
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


def heart_rate_to_reading(
    m: HeartRateMeasurement,
    *,
    msg_id: str,
    patient: str,
    device: DeviceRef,
    received_at: dt.datetime,
    simulated: bool,
) -> HeartRate:
    """Heart Rate Measurement (a live notification: measured_at = received_at)."""
    contact = {
        SensorContact.DETECTED: True,
        SensorContact.NOT_DETECTED: False,
        SensorContact.NOT_SUPPORTED: None,
    }[m.sensor_contact]
    return build(
        HeartRate,
        msg_id=msg_id,
        patient=patient,
        device=device,
        measured_at=received_at,
        received_at=received_at,
        simulated=simulated,
        bpm=m.heart_rate,
        rr_intervals_s=m.rr_intervals_s,
        sensor_contact=contact,
        energy_expended_kj=m.energy_expended_kj,
    )


_PLX_INVALID = (
    PlxMeasurementStatus.MEASUREMENT_UNAVAILABLE
    | PlxMeasurementStatus.INVALID_MEASUREMENT
    | PlxMeasurementStatus.DATA_FOR_DEMONSTRATION
    | PlxMeasurementStatus.DATA_FOR_TESTING
)
_PLX_SENSOR_FAULT = (
    PlxDeviceStatus.EQUIPMENT_MALFUNCTION
    | PlxDeviceStatus.SENSOR_UNCONNECTED
    | PlxDeviceStatus.SENSOR_DISCONNECTED
    | PlxDeviceStatus.SENSOR_MALFUNCTION
)


def spo2_to_reading(
    m: PlxSpotCheck | PlxContinuous,
    *,
    msg_id: str,
    patient: str,
    device: DeviceRef,
    received_at: dt.datetime,
    simulated: bool,
    clock_offset: dt.timedelta | None = None,
    device_tz: dt.tzinfo | None = None,
) -> SpO2:
    """PLX spot-check or continuous measurement. Invalid/unavailable/demo/test data and
    sensor faults raise MappingError. A spot-check's time stamp is used unless the
    device says its clock is not set; continuous values are live (received_at)."""
    status = m.measurement_status or PlxMeasurementStatus(0)
    if status & _PLX_INVALID:
        raise MappingError(f"oximeter marked the measurement {status!r}")
    device_status = m.device_status or PlxDeviceStatus(0)
    if device_status & _PLX_SENSOR_FAULT:
        raise MappingError(f"oximeter reports {device_status!r}")
    timestamp = None
    if isinstance(m, PlxSpotCheck) and not m.clock_not_set:
        timestamp = m.timestamp
    return build(
        SpO2,
        msg_id=msg_id,
        patient=patient,
        device=device,
        measured_at=measured_at(
            timestamp, received_at=received_at, clock_offset=clock_offset, device_tz=device_tz
        ),
        device_time=timestamp.isoformat() if timestamp is not None else None,
        received_at=received_at,
        simulated=simulated,
        spo2_pct=number(m.spo2, "SpO2"),
        pulse=optional_number(m.pulse_rate),
        perfusion_index=optional_number(m.pulse_amplitude_index),
    )


INCH_M = 0.0254


def weight_to_reading(
    m: WeightMeasurement,
    *,
    msg_id: str,
    patient: str,
    device: DeviceRef,
    received_at: dt.datetime,
    simulated: bool,
    clock_offset: dt.timedelta | None = None,
    device_tz: dt.tzinfo | None = None,
) -> BodyWeight:
    """Weight Measurement -> ``vitals.BodyWeight`` (kg; value and unit as received kept)."""
    weight = m.weight
    if not isinstance(weight, float):
        raise MappingError("scale reports the measurement unsuccessful")
    unit = MassUnit.LB if m.imperial else MassUnit.KG
    height = m.height
    return build(
        BodyWeight,
        msg_id=msg_id,
        patient=patient,
        device=device,
        measured_at=measured_at(
            m.timestamp, received_at=received_at, clock_offset=clock_offset, device_tz=device_tz
        ),
        device_time=m.timestamp.isoformat() if m.timestamp is not None else None,
        received_at=received_at,
        simulated=simulated,
        kg=to_kg(weight, unit),
        value_received=weight,
        unit_received=unit,
        bmi=m.bmi,
        height_m=None if height is None else (height * INCH_M if m.imperial else height),
        user_id=None if m.user_id in (None, UNKNOWN_USER) else m.user_id,
    )


def to_reading(
    value: object,
    *,
    msg_id: str,
    patient: str,
    device: DeviceRef,
    received_at: dt.datetime,
    simulated: bool,
    clock_offset: dt.timedelta | None = None,
    device_tz: dt.tzinfo | None = None,
    context: GlucoseContext | None = None,
) -> Reading:
    """Map any supported decoded value to its domain reading; MappingError otherwise.

    Supported: BloodPressureMeasurement, GlucoseMeasurement (+ ``context``),
    HeartRateMeasurement, PlxSpotCheck/PlxContinuous, WeightMeasurement, EcgSegment.
    """
    common: dict[str, Any] = dict(
        msg_id=msg_id, patient=patient, device=device, received_at=received_at, simulated=simulated
    )
    timed: dict[str, Any] = dict(common, clock_offset=clock_offset, device_tz=device_tz)
    if isinstance(value, BloodPressureMeasurement):
        return bp_to_reading(value, **timed)
    if isinstance(value, GlucoseMeasurement):
        return glucose_to_reading(value, context, **timed)
    if isinstance(value, HeartRateMeasurement):
        return heart_rate_to_reading(value, **common)
    if isinstance(value, PlxSpotCheck | PlxContinuous):
        return spo2_to_reading(value, **timed)
    if isinstance(value, WeightMeasurement):
        return weight_to_reading(value, **timed)
    if isinstance(value, EcgSegment):
        return ecg_to_reading(value, **common, clock_offset=clock_offset)
    raise MappingError(f"{type(value).__name__} does not map to a reading")
