"""HomeRPM's shared domain: readings, alerts, units, codes and the MQTT wire schema."""

from vitals.alerts import Alert, AlertInput, AlertState, Severity
from vitals.ids import is_msg_id, new_msg_id
from vitals.readings import (
    BloodPressure,
    BodyWeight,
    BpStatus,
    DeviceRef,
    EcgStrip,
    Glucose,
    GlucoseLocation,
    GlucoseSampleType,
    HeartRate,
    MealContext,
    RangeFlag,
    Reading,
    ReadingKind,
    SpO2,
)
from vitals.status import DeviceHealth, GatewayState, GatewayStatus

__all__ = [
    "Alert",
    "AlertInput",
    "AlertState",
    "BloodPressure",
    "BodyWeight",
    "BpStatus",
    "DeviceHealth",
    "DeviceRef",
    "EcgStrip",
    "GatewayState",
    "GatewayStatus",
    "Glucose",
    "GlucoseLocation",
    "GlucoseSampleType",
    "HeartRate",
    "MealContext",
    "RangeFlag",
    "Reading",
    "ReadingKind",
    "Severity",
    "SpO2",
    "is_msg_id",
    "new_msg_id",
]
