"""Simulated GATT devices as pure state machines.

A :class:`DeviceModel` owns a device's GATT table and state (stored records, RACP
procedure, ECG stream...) and answers each central event — connect, read, write,
subscribe, stream tick — with the exact bytes a real device would send, as a list of
:class:`Action`. It does no I/O and knows no clock but the one it is given; the fronts
(in-process peripheral, BlueZ GATT application) execute the actions, so one model
behaves identically behind both.
"""

from __future__ import annotations

from dataclasses import dataclass

from device_drivers.codecs.device_info import encode_battery_level
from device_drivers.uuids import normalize_uuid

# Bluetooth SIG services (Assigned Numbers) the simulators expose.
DEVICE_INFORMATION = normalize_uuid("180a")
MANUFACTURER_NAME = normalize_uuid("2a29")
MODEL_NUMBER = normalize_uuid("2a24")
SERIAL_NUMBER = normalize_uuid("2a25")
CURRENT_TIME_SERVICE = normalize_uuid("1805")
BATTERY_SERVICE = normalize_uuid("180f")
BATTERY_LEVEL = normalize_uuid("2a19")


@dataclass(frozen=True, slots=True)
class Char:
    """One characteristic: canonical UUID, the service it belongs to, BlueZ flags."""

    uuid: str
    service: str
    flags: frozenset[str]

    @classmethod
    def of(cls, uuid: str, service: str, *flags: str) -> Char:
        return cls(normalize_uuid(uuid), normalize_uuid(service), frozenset(flags))


@dataclass(frozen=True, slots=True)
class Notify:
    """Send a notification or indication (by the characteristic's flags)."""

    char: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Disconnect:
    """The device ends the connection (cuffs do this after their burst)."""


@dataclass(frozen=True, slots=True)
class StopAdvertising:
    """The device goes quiet until something new happens (e.g. the next measurement)."""


Action = Notify | Disconnect | StopAdvertising


class AttError(Exception):
    """The model rejects a GATT operation with an ATT error code."""

    def __init__(self, code: int, reason: str) -> None:
        self.code = code
        self.reason = reason
        super().__init__(f"ATT error {code:#04x}: {reason}")


ATT_READ_NOT_PERMITTED = 0x02
ATT_WRITE_NOT_PERMITTED = 0x03
ATT_REQUEST_NOT_SUPPORTED = 0x06
ATT_INVALID_LENGTH = 0x0D
#: Profile-defined errors used by control points (GLS/PMD).
ATT_PROCEDURE_IN_PROGRESS = 0x80
ATT_CCCD_IMPROPERLY_CONFIGURED = 0xFD


class DeviceModel:
    """Base class: a GATT table, Device Information strings and default behaviour."""

    kind: str = "generic"
    manufacturer: str = "HomeRPM"
    model_number: str = "Sim"

    def __init__(self, *, address: str, name: str, serial: str = "SIM-0001") -> None:
        self.address = address.upper()
        self.name = name
        self.serial = serial
        #: Battery Level 0x2A19 in percent (0..100); set it to simulate a draining battery.
        self.battery_pct = 87
        self.advertising = True
        self.connected = False
        self.subscribed: set[str] = set()
        #: Seconds between stream ticks while streaming, else None.
        self.stream_period: float | None = None

    # GATT table ----------------------------------------------------------------------
    def primary_services(self) -> tuple[str, ...]:
        """Services put into the advertisement (the device's main profile)."""
        raise NotImplementedError

    def own_chars(self) -> tuple[Char, ...]:
        raise NotImplementedError

    def chars(self) -> tuple[Char, ...]:
        info = (
            Char.of(MANUFACTURER_NAME, DEVICE_INFORMATION, "read"),
            Char.of(MODEL_NUMBER, DEVICE_INFORMATION, "read"),
            Char.of(SERIAL_NUMBER, DEVICE_INFORMATION, "read"),
            Char.of(BATTERY_LEVEL, BATTERY_SERVICE, "read"),
        )
        return self.own_chars() + info

    def char(self, uuid: str) -> Char:
        wanted = normalize_uuid(uuid)
        for c in self.chars():
            if c.uuid == wanted:
                return c
        raise AttError(ATT_REQUEST_NOT_SUPPORTED, f"no characteristic {wanted}")

    # Central events ------------------------------------------------------------------
    def on_connect(self) -> list[Action]:
        self.connected = True
        return []

    def on_disconnect(self) -> None:
        self.connected = False
        self.subscribed.clear()
        self.stream_period = None

    def read(self, uuid: str) -> bytes:
        uuid = normalize_uuid(uuid)
        info = {
            MANUFACTURER_NAME: self.manufacturer,
            MODEL_NUMBER: self.model_number,
            SERIAL_NUMBER: self.serial,
        }
        if uuid in info:
            return info[uuid].encode()
        if uuid == BATTERY_LEVEL:
            return encode_battery_level(self.battery_pct)
        raise AttError(ATT_READ_NOT_PERMITTED, f"{uuid} is not readable")

    def write(self, uuid: str, data: bytes) -> list[Action]:
        raise AttError(ATT_WRITE_NOT_PERMITTED, f"{normalize_uuid(uuid)} is not writable")

    def subscribe(self, uuid: str, enabled: bool) -> list[Action]:
        uuid = normalize_uuid(uuid)
        if enabled:
            self.subscribed.add(uuid)
        else:
            self.subscribed.discard(uuid)
        return []

    def tick(self) -> list[Action]:
        """One stream step (only called while ``stream_period`` is set)."""
        return []
