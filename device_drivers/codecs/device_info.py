"""Device Information 0x180A strings and Battery Level 0x2A19.

The strings (manufacturer name 0x2A29, model number 0x2A24, serial number 0x2A25,
firmware 0x2A26, hardware 0x2A27, software 0x2A28 revisions) are UTF-8 without a
terminator; some firmware pads them with NUL bytes, which are stripped from ``text`` and
counted so the bytes re-encode exactly. The manufacturer name and model number select
the quirk profile (``device_drivers.quirks.quirks_for``).
"""

from __future__ import annotations

from dataclasses import dataclass

from device_drivers.codecs._binary import Reader, Writer
from device_drivers.quirks import NO_QUIRKS, Quirks
from device_drivers.uuids import uuid16

MANUFACTURER_NAME = uuid16(0x2A29)
MODEL_NUMBER = uuid16(0x2A24)
SERIAL_NUMBER = uuid16(0x2A25)
FIRMWARE_REVISION = uuid16(0x2A26)
HARDWARE_REVISION = uuid16(0x2A27)
SOFTWARE_REVISION = uuid16(0x2A28)
BATTERY_LEVEL = uuid16(0x2A19)

STRING_CHARACTERISTICS = {
    MANUFACTURER_NAME: "Manufacturer Name",
    MODEL_NUMBER: "Model Number",
    SERIAL_NUMBER: "Serial Number",
    FIRMWARE_REVISION: "Firmware Revision",
    HARDWARE_REVISION: "Hardware Revision",
    SOFTWARE_REVISION: "Software Revision",
}


@dataclass(frozen=True, slots=True)
class DeviceString:
    text: str
    nul_padding: int = 0

    def __str__(self) -> str:
        return self.text


def decode_device_string(uuid: str, payload: bytes) -> DeviceString:
    """Decode a Device Information string; raises DecodeError (invalid UTF-8, inner NUL)."""
    r = Reader(uuid, payload)
    data = r.rest()
    text = data.rstrip(b"\x00")
    if b"\x00" in text:
        r.fail("NUL byte inside the string")
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError as exc:
        r.fail(f"not UTF-8 ({exc.reason} at byte {exc.start})")
    return DeviceString(decoded, len(data) - len(text))


def encode_device_string(uuid: str, value: DeviceString) -> bytes:
    w = Writer(uuid)
    if "\x00" in value.text or value.nul_padding < 0:
        w.fail("text must not contain NUL; padding must be >= 0")
    w.raw(value.text.encode("utf-8") + b"\x00" * value.nul_padding)
    return w.bytes()


def decode_battery_level(payload: bytes, quirks: Quirks = NO_QUIRKS) -> int:
    """Battery Level 0x2A19: percent 0..100."""
    r = Reader(BATTERY_LEVEL, payload)
    level = r.u8("battery level")
    r.end()
    if level > 100:
        r.fail(f"battery level {level}% is over 100")
    return level


def encode_battery_level(level: int, quirks: Quirks = NO_QUIRKS) -> bytes:
    w = Writer(BATTERY_LEVEL)
    if not 0 <= level <= 100:
        w.fail(f"battery level {level}% outside 0..100")
    w.u8(level, "battery level")
    return w.bytes()
