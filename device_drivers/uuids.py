"""Bluetooth UUIDs: normalisation of the 16-bit short form and the 128-bit form.

Every UUID inside device_drivers is kept in one canonical spelling — the full 128-bit
lower-case form — so a dictionary lookup never depends on how a caller wrote it.
"""

from __future__ import annotations

import re

#: The Bluetooth Base UUID; a 16-bit SIG number n stands for 0000nnnn-<BASE_SUFFIX>.
BASE_SUFFIX = "-0000-1000-8000-00805f9b34fb"

_FULL = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_SHORT = re.compile(r"^(?:0x)?([0-9a-f]{4}|[0-9a-f]{8})$")


def uuid16(number: int) -> str:
    """Full 128-bit form of a 16-bit SIG-assigned UUID (``0x2A35`` -> ``00002a35-...``)."""
    if not 0 <= number <= 0xFFFF:
        raise ValueError(f"not a 16-bit UUID: {number:#x}")
    return f"0000{number:04x}{BASE_SUFFIX}"


def normalize_uuid(text: str) -> str:
    """Canonical 128-bit lower-case spelling of ``text``.

    Accepts ``2A35``, ``0x2a35``, 32-bit ``00002A35`` and the full dashed form in any case.
    Raises ``ValueError`` for anything else.
    """
    value = text.strip().lower()
    if _FULL.match(value):
        return value
    short = _SHORT.match(value)
    if short:
        digits = short.group(1)
        return f"{int(digits, 16):08x}{BASE_SUFFIX}"
    raise ValueError(f"not a Bluetooth UUID: {text!r}")


def short_name(uuid: str) -> str:
    """``2A35`` for SIG base UUIDs, otherwise the full UUID (for messages)."""
    value = uuid.lower()
    if value.endswith(BASE_SUFFIX) and value.startswith("0000"):
        return value[4:8].upper()
    return value


# SIG characteristic UUIDs handled by the codecs (Bluetooth Assigned Numbers).
DATE_TIME = uuid16(0x2A08)
CURRENT_TIME = uuid16(0x2A2B)
BLOOD_PRESSURE_MEASUREMENT = uuid16(0x2A35)
INTERMEDIATE_CUFF_PRESSURE = uuid16(0x2A36)
BLOOD_PRESSURE_FEATURE = uuid16(0x2A49)
GLUCOSE_MEASUREMENT = uuid16(0x2A18)
GLUCOSE_MEASUREMENT_CONTEXT = uuid16(0x2A34)
GLUCOSE_FEATURE = uuid16(0x2A51)
RECORD_ACCESS_CONTROL_POINT = uuid16(0x2A52)
HEART_RATE_MEASUREMENT = uuid16(0x2A37)
PLX_SPOT_CHECK_MEASUREMENT = uuid16(0x2A5E)
PLX_CONTINUOUS_MEASUREMENT = uuid16(0x2A5F)
WEIGHT_MEASUREMENT = uuid16(0x2A9D)

# Polar Measurement Data (Polar BLE SDK); vendor 128-bit UUIDs.
PMD_SERVICE = "fb005c80-02e7-f387-1cad-8acd2d8df0c8"
PMD_CONTROL_POINT = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
PMD_DATA = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"
