"""Pieces every device session shares: Device Information, bad payloads, clock writes."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from device_drivers.ble.inbox import Inbox
from device_drivers.ble.transport import BleConnection, BleError, GattError, Notification
from device_drivers.codecs.date_time import (
    AdjustReason,
    CurrentTime,
    DateTime,
    decode_current_time,
    encode_current_time,
)
from device_drivers.codecs.device_info import decode_battery_level
from device_drivers.device_time import clock_offset
from device_drivers.errors import DecodeError
from device_drivers.quirks import NO_QUIRKS, Quirks, quirks_for
from device_drivers.uuids import CURRENT_TIME, normalize_uuid

log = logging.getLogger(__name__)

MANUFACTURER_NAME = normalize_uuid("2a29")
MODEL_NUMBER = normalize_uuid("2a24")
SERIAL_NUMBER = normalize_uuid("2a25")
FIRMWARE_REVISION = normalize_uuid("2a26")
BATTERY_LEVEL = normalize_uuid("2a19")


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """Device Information service strings (None where the device has none)."""

    manufacturer: str | None = None
    model: str | None = None
    serial: str | None = None
    firmware: str | None = None

    @property
    def quirks(self) -> Quirks:
        return quirks_for(self.manufacturer, self.model)

    @property
    def is_simulator(self) -> bool:
        """HomeRPM's own simulated devices say so in Device Information (manufacturer
        ``HomeRPM`` or a model number containing ``simulated``): their readings must be
        marked simulated even if the configuration forgot to."""
        return self.manufacturer == "HomeRPM" or "simulated" in (self.model or "").lower()


async def read_device_info(conn: BleConnection) -> DeviceInfo:
    have = conn.characteristics()
    values: dict[str, str | None] = {}
    for key, uuid in (
        ("manufacturer", MANUFACTURER_NAME),
        ("model", MODEL_NUMBER),
        ("serial", SERIAL_NUMBER),
        ("firmware", FIRMWARE_REVISION),
    ):
        values[key] = None
        if uuid in have:
            try:
                raw = await conn.read(uuid)
                values[key] = raw.decode("utf-8", "replace").rstrip("\x00").strip() or None
            except GattError as exc:
                log.info("%s: reading %s failed: %s", conn.address, uuid, exc)
    return DeviceInfo(**values)


@dataclass(frozen=True, slots=True)
class BadPayload:
    """A value that did not decode: kept with its bytes for a human to inspect."""

    notification: Notification
    error: DecodeError


async def read_battery_level(
    conn: BleConnection, quirks: Quirks = NO_QUIRKS
) -> int | BadPayload | None:
    """Battery Level 0x2A19 in percent, read once per connection; the value kept as a
    :class:`BadPayload` if it does not decode; None if the device has no Battery Service
    or the read failed (the battery is optional: it never fails a session)."""
    if BATTERY_LEVEL not in conn.characteristics():
        return None
    try:
        raw = await conn.read(BATTERY_LEVEL)
    except BleError as exc:
        log.info("%s: reading the battery level failed: %s", conn.address, exc)
        return None
    try:
        return decode_battery_level(raw, quirks)
    except DecodeError as exc:
        log.warning("%s: undecodable battery level %s: %s", conn.address, raw.hex(), exc.reason)
        return BadPayload(Notification(BATTERY_LEVEL, raw, dt.datetime.now(dt.UTC)), exc)


async def read_clock_offset(conn: BleConnection) -> dt.timedelta | None:
    """``gateway UTC now - device clock`` from Current Time 0x2A2B, whole seconds; None
    if the device has no readable, sane clock. Read it BEFORE setting the clock: the
    records already stored carry the old clock's times."""
    if CURRENT_TIME not in conn.characteristics():
        return None
    try:
        value = decode_current_time(await conn.read(CURRENT_TIME))
        offset = clock_offset(value.date_time, dt.datetime.now(dt.UTC))
    except (GattError, DecodeError, ValueError) as exc:
        log.info("%s: no usable device clock: %s", conn.address, exc)
        return None
    return dt.timedelta(seconds=round(offset.total_seconds()))


async def write_current_time(conn: BleConnection, now: dt.datetime | None = None) -> bool:
    """Set the device clock via Current Time 0x2A2B if it is writable; True if written.

    Devices keep local wall-clock time, so the gateway's local time is written.
    """
    if CURRENT_TIME not in conn.characteristics():
        return False
    local = (now or dt.datetime.now().astimezone()).astimezone()
    value = CurrentTime(
        DateTime.from_datetime(local),
        local.isoweekday(),
        int(local.microsecond * 256 / 1_000_000),
        AdjustReason.EXTERNAL_REFERENCE_TIME_UPDATE,
    )
    try:
        await conn.write(CURRENT_TIME, encode_current_time(value), response=True)
    except GattError as exc:
        log.info("%s: device refused the time write: %s", conn.address, exc)
        return False
    return True


async def collect(
    conn: BleConnection,
    chars: list[str],
    *,
    quiet_timeout: float = 5.0,
    max_count: int | None = None,
) -> list[Notification]:
    """Subscribe to ``chars`` and gather values until the link drops, ``quiet_timeout``
    passes without one, or ``max_count`` arrived (heart rate, SpO2, weight...)."""
    got: list[Notification] = []
    async with Inbox(conn) as inbox:
        for char in chars:
            await conn.start_notify(char)
        while max_count is None or len(got) < max_count:
            n = await inbox.next(quiet_timeout)
            if n is None:
                break
            got.append(n)
    return got
