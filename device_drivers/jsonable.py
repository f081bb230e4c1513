"""Plain-JSON view of decoded GATT values (for the decode CLI and logs)."""

from __future__ import annotations

import dataclasses
from enum import Enum, IntFlag
from typing import Any

import numpy as np

from device_drivers.codecs.bp import BpMeasurementStatus
from device_drivers.codecs.date_time import DateTime
from device_drivers.codecs.numbers import MderFloat, MderSpecial


def to_jsonable(value: Any) -> Any:
    """Dataclasses become objects with a ``type`` key; MDER floats their number
    (specials their name, e.g. ``"NaN"``); flags ``{"raw", "set"}``; bytes hex."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, MderFloat):
        return value.value
    if isinstance(value, MderSpecial):
        return value.value
    if isinstance(value, IntFlag):
        return {"raw": int(value), "set": [m.name for m in type(value) if m in value]}
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, int | float):
        return value
    if isinstance(value, DateTime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, BpMeasurementStatus):
        return {
            "raw": value.raw,
            "body_movement": value.body_movement,
            "cuff_too_loose": value.cuff_too_loose,
            "irregular_pulse": value.irregular_pulse,
            "pulse_rate_range": value.pulse_rate_range.name,
            "improper_position": value.improper_position,
            "reserved_bits": value.reserved_bits,
        }
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {"type": type(value).__name__}
        for f in dataclasses.fields(value):
            out[f.name] = to_jsonable(getattr(value, f.name))
        return out
    if isinstance(value, tuple | list):
        return [to_jsonable(v) for v in value]
    raise TypeError(f"no JSON view for {type(value).__name__}")
