"""Characteristic UUID -> codec (decode/encode), for the gateway and the decode CLI.

UUIDs are accepted in the 16-bit short form (``2A35``, ``0x2a35``) and the full 128-bit
form, in any case. Every decoder has the signature ``decode(payload, quirks)`` and raises
``DecodeError``; every encoder ``encode(value, quirks) -> bytes`` raises ``EncodeError``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from device_drivers import uuids
from device_drivers.codecs import (
    bp,
    date_time,
    device_info,
    glucose,
    heart_rate,
    plx,
    pmd,
    racp,
    weight,
)
from device_drivers.errors import UnknownCharacteristicError
from device_drivers.quirks import NO_QUIRKS, Quirks


@dataclass(frozen=True, slots=True)
class Codec:
    uuid: str
    name: str
    decode: Callable[[bytes, Quirks], Any]
    encode: Callable[[Any, Quirks], bytes]


def _dt_decode(payload: bytes, quirks: Quirks) -> date_time.DateTime:
    return date_time.decode_date_time(payload)


def _dt_encode(value: date_time.DateTime, quirks: Quirks) -> bytes:
    return date_time.encode_date_time(value)


def _ct_decode(payload: bytes, quirks: Quirks) -> date_time.CurrentTime:
    return date_time.decode_current_time(payload)


def _ct_encode(value: date_time.CurrentTime, quirks: Quirks) -> bytes:
    return date_time.encode_current_time(value)


def _string_decode(uuid: str, payload: bytes, quirks: Quirks) -> device_info.DeviceString:
    return device_info.decode_device_string(uuid, payload)


def _string_encode(uuid: str, value: device_info.DeviceString, quirks: Quirks) -> bytes:
    return device_info.encode_device_string(uuid, value)


CODECS: tuple[Codec, ...] = (
    Codec(uuids.DATE_TIME, "Date Time", _dt_decode, _dt_encode),
    Codec(uuids.CURRENT_TIME, "Current Time", _ct_decode, _ct_encode),
    Codec(
        uuids.BLOOD_PRESSURE_MEASUREMENT,
        "Blood Pressure Measurement",
        bp.decode_bp_measurement,
        bp.encode_bp_measurement,
    ),
    Codec(
        uuids.INTERMEDIATE_CUFF_PRESSURE,
        "Intermediate Cuff Pressure",
        bp.decode_intermediate_cuff_pressure,
        bp.encode_intermediate_cuff_pressure,
    ),
    Codec(
        uuids.BLOOD_PRESSURE_FEATURE,
        "Blood Pressure Feature",
        bp.decode_bp_feature,
        bp.encode_bp_feature,
    ),
    Codec(
        uuids.GLUCOSE_MEASUREMENT,
        "Glucose Measurement",
        glucose.decode_glucose_measurement,
        glucose.encode_glucose_measurement,
    ),
    Codec(
        uuids.GLUCOSE_MEASUREMENT_CONTEXT,
        "Glucose Measurement Context",
        glucose.decode_glucose_context,
        glucose.encode_glucose_context,
    ),
    Codec(
        uuids.GLUCOSE_FEATURE,
        "Glucose Feature",
        glucose.decode_glucose_feature,
        glucose.encode_glucose_feature,
    ),
    Codec(
        uuids.RECORD_ACCESS_CONTROL_POINT,
        "Record Access Control Point",
        racp.decode_racp,
        racp.encode_racp,
    ),
    Codec(
        uuids.HEART_RATE_MEASUREMENT,
        "Heart Rate Measurement",
        heart_rate.decode_heart_rate,
        heart_rate.encode_heart_rate,
    ),
    Codec(
        uuids.PLX_SPOT_CHECK_MEASUREMENT,
        "PLX Spot-Check Measurement",
        plx.decode_plx_spot_check,
        plx.encode_plx_spot_check,
    ),
    Codec(
        uuids.PLX_CONTINUOUS_MEASUREMENT,
        "PLX Continuous Measurement",
        plx.decode_plx_continuous,
        plx.encode_plx_continuous,
    ),
    Codec(
        uuids.WEIGHT_MEASUREMENT, "Weight Measurement", weight.decode_weight, weight.encode_weight
    ),
    Codec(
        uuids.PMD_CONTROL_POINT,
        "Polar PMD Control Point",
        pmd.decode_pmd_control_point,
        pmd.encode_pmd_control_point,
    ),
    Codec(uuids.PMD_DATA, "Polar PMD Data", pmd.decode_pmd_data, pmd.encode_pmd_data),
    Codec(
        device_info.BATTERY_LEVEL,
        "Battery Level",
        device_info.decode_battery_level,
        device_info.encode_battery_level,
    ),
    *(
        Codec(uuid, name, partial(_string_decode, uuid), partial(_string_encode, uuid))
        for uuid, name in device_info.STRING_CHARACTERISTICS.items()
    ),
)

_BY_UUID = {codec.uuid: codec for codec in CODECS}


def codec_for(char_uuid: str) -> Codec:
    """The codec for a characteristic; ``UnknownCharacteristicError`` if none (or the
    UUID is malformed)."""
    try:
        key = uuids.normalize_uuid(char_uuid)
    except ValueError:
        raise UnknownCharacteristicError(char_uuid) from None
    codec = _BY_UUID.get(key)
    if codec is None:
        raise UnknownCharacteristicError(char_uuid)
    return codec


def decode(char_uuid: str, payload: bytes, quirks: Quirks = NO_QUIRKS) -> Any:
    """Decode ``payload`` of characteristic ``char_uuid``; raises DecodeError."""
    return codec_for(char_uuid).decode(payload, quirks)


def encode(char_uuid: str, value: Any, quirks: Quirks = NO_QUIRKS) -> bytes:
    """Encode ``value`` for characteristic ``char_uuid``; raises EncodeError."""
    return codec_for(char_uuid).encode(value, quirks)
