"""The BLE transport seam: what device sessions need from a Bluetooth stack.

Two implementations: :class:`device_drivers.ble.bleak_transport.BleakTransport` (BlueZ
via bleak + bleak-retry-connector, production) and
:class:`device_drivers.ble.memory.MemoryTransport` (simulated peripherals in the same
process, for fast tests). Sessions (``bp``, ``glucose``, ``ecg``) only see these
Protocols, so every session runs unchanged on both.

Shape (after Home Assistant's bluetooth stack): ONE shared scanner fans advertisements
out to subscribers; a connection is made from an :class:`Advertisement` (it carries the
stack's own device handle, never just an address, so the stack does not start a second
scan); connections are scarce and handed out through slots.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Protocol

from device_drivers.uuids import normalize_uuid


@dataclass(frozen=True, slots=True)
class Advertisement:
    """One advertisement as seen by the shared scanner."""

    address: str
    name: str | None
    rssi: int | None
    service_uuids: tuple[str, ...] = ()
    manufacturer_data: dict[int, bytes] = field(default_factory=dict, compare=False)
    service_data: dict[str, bytes] = field(default_factory=dict, compare=False)
    #: The stack's own device object (a bleak ``BLEDevice``); opaque to sessions.
    handle: object = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Notification:
    """One notification or indication value as received."""

    char_uuid: str
    data: bytes
    received_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Matcher:
    """Which advertisements a subscriber wants: any listed service UUID or address.

    An empty matcher matches everything. UUIDs are compared in their canonical 128-bit
    form, addresses case-insensitively.
    """

    service_uuids: frozenset[str] = frozenset()
    addresses: frozenset[str] = frozenset()

    @classmethod
    def of(cls, services: Iterable[str] = (), addresses: Iterable[str] = ()) -> Matcher:
        return cls(
            frozenset(normalize_uuid(u) for u in services),
            frozenset(a.upper() for a in addresses),
        )

    def matches(self, adv: Advertisement) -> bool:
        if not self.service_uuids and not self.addresses:
            return True
        if adv.address.upper() in self.addresses:
            return True
        return any(normalize_uuid(u) in self.service_uuids for u in adv.service_uuids)


class BleError(Exception):
    """Base of every transport error; ``address`` names the device."""

    def __init__(self, address: str, reason: str) -> None:
        self.address = address
        self.reason = reason
        super().__init__(f"{address}: {reason}")


class DeviceNotFound(BleError):
    """The device is not (or no longer) advertising / known to the stack."""


class ConnectFailed(BleError):
    """Connecting failed after the transport's own retries."""


class OutOfSlots(BleError):
    """No connection slot became free in time."""


class Disconnected(BleError):
    """The link dropped while an operation was pending."""


class GattError(BleError):
    """A GATT operation was rejected (missing characteristic, ATT error, not permitted).

    ``att_code`` is the ATT error code when the stack reports one (0x05 insufficient
    authentication and 0x0F insufficient encryption mean "pair first").
    """

    def __init__(self, address: str, reason: str, att_code: int | None = None) -> None:
        super().__init__(address, reason)
        self.att_code = att_code


class BleConnection(Protocol):
    """A live connection. ``notifications()`` merges every subscribed characteristic in
    arrival order (a glucose context must follow its measurement; the RACP indication
    must follow the records) and ends when the link drops."""

    @property
    def address(self) -> str: ...

    @property
    def is_connected(self) -> bool: ...

    def characteristics(self) -> frozenset[str]:
        """Canonical UUIDs of every characteristic the device exposes."""
        ...

    async def read(self, char_uuid: str) -> bytes: ...

    async def write(self, char_uuid: str, data: bytes, *, response: bool = True) -> None: ...

    async def start_notify(self, char_uuid: str) -> None:
        """Enable notifications or indications (the stack picks by the char's flags)."""
        ...

    async def stop_notify(self, char_uuid: str) -> None: ...

    def notifications(self) -> AsyncIterator[Notification]: ...

    async def wait_disconnected(self) -> None: ...

    async def disconnect(self) -> None: ...


class BleTransport(Protocol):
    """One Bluetooth stack (adapter). Use as an async context manager."""

    def advertisements(self, matcher: Matcher | None = None) -> AsyncIterator[Advertisement]:
        """Advertisements from the shared scanner, filtered by ``matcher``; runs forever."""
        ...

    def connect(
        self, adv: Advertisement, *, connect_timeout: float = 20.0, required: Iterable[str] = ()
    ) -> AbstractAsyncContextManager[BleConnection]:
        """Connect to an advertised device; disconnects and frees the slot on exit.

        ``required`` characteristics must exist (else the GATT cache is refreshed once,
        then :class:`GattError`)."""
        ...
