"""D-Bus objects of a BlueZ GATT application and LE advertisement (dbus-fast).

BlueZ's peripheral-side API (``doc/org.bluez.GattService.rst``,
``org.bluez.GattCharacteristic.rst``, ``org.bluez.LEAdvertisement.rst``): the
application exports ``GattService1``/``GattCharacteristic1`` objects under one root that
answers ``ObjectManager.GetManagedObjects`` (dbus-fast does that for every exported
path), registers the root with ``GattManager1.RegisterApplication`` and an
``LEAdvertisement1`` with ``LEAdvertisingManager1.RegisterAdvertisement``. A
notification/indication is a ``PropertiesChanged`` of ``Value``; BlueZ calls ``Confirm``
when the central acknowledged an indication.

No ``from __future__ import annotations`` here: dbus-fast reads the D-Bus signatures
from the evaluated annotations.
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated

from dbus_fast import DBusError, PropertyAccess, Variant
from dbus_fast.annotations import (
    DBusBool,
    DBusBytes,
    DBusDict,
    DBusObjectPath,
    DBusSignature,
    DBusStr,
    DBusUInt16,
)
from dbus_fast.service import ServiceInterface, dbus_method, dbus_property

from firmware_sim.devices.gatt_model import AttError, Char

DBusStrList = Annotated[list[str], DBusSignature("as")]

#: ATT error code -> BlueZ D-Bus error name (others: org.bluez.Error.Failed "0xNN",
#: which BlueZ turns into that ATT code on the air).
_BLUEZ_ERRORS = {
    0x02: "org.bluez.Error.NotPermitted",
    0x03: "org.bluez.Error.NotPermitted",
    0x06: "org.bluez.Error.NotSupported",
    0x0D: "org.bluez.Error.InvalidValueLength",
}


def to_dbus_error(exc: AttError) -> DBusError:
    name = _BLUEZ_ERRORS.get(exc.code, "org.bluez.Error.Failed")
    text = exc.reason if name != "org.bluez.Error.Failed" else f"0x{exc.code:02x} {exc.reason}"
    return DBusError(name, text)


class GattService(ServiceInterface):
    def __init__(self, uuid: str, handle: int) -> None:
        super().__init__("org.bluez.GattService1")
        self._uuid = uuid
        self._handle = handle

    @dbus_property(access=PropertyAccess.READ)
    def UUID(self) -> DBusStr:
        return self._uuid

    @dbus_property(access=PropertyAccess.READ)
    def Primary(self) -> DBusBool:
        return True

    # BlueZ: "Handle [read-write, optional] (Server Only)": the daemon tries this handle
    # and writes back the one it allocated; the mock uses it for object paths.
    @dbus_property()
    def Handle(self) -> DBusUInt16:
        return self._handle

    @Handle.setter  # type: ignore[no-redef]
    def Handle(self, value: DBusUInt16) -> None:
        self._handle = value


ReadHandler = Callable[[str], bytes]
WriteHandler = Callable[[str, bytes], None]
SubscribeHandler = Callable[[str, bool], None]


class GattCharacteristic(ServiceInterface):
    """One characteristic; calls back into the device front for every operation."""

    def __init__(
        self,
        char: Char,
        service_path: str,
        handle: int,
        *,
        on_read: ReadHandler,
        on_write: WriteHandler,
        on_subscribe: SubscribeHandler,
    ) -> None:
        super().__init__("org.bluez.GattCharacteristic1")
        self.char = char
        self._service_path = service_path
        self._handle = handle
        self._on_read = on_read
        self._on_write = on_write
        self._on_subscribe = on_subscribe
        self._value = b""
        self.notifying = False
        self._confirmed = asyncio.Event()

    @dbus_property(access=PropertyAccess.READ)
    def UUID(self) -> DBusStr:
        return self.char.uuid

    @dbus_property(access=PropertyAccess.READ)
    def Service(self) -> DBusObjectPath:
        return self._service_path

    @dbus_property(access=PropertyAccess.READ)
    def Flags(self) -> DBusStrList:
        return sorted(self.char.flags)

    # BlueZ: "Handle [read-write, optional] (Server Only)": the daemon tries this handle
    # and writes back the one it allocated; the mock uses it for object paths.
    @dbus_property()
    def Handle(self) -> DBusUInt16:
        return self._handle

    @Handle.setter  # type: ignore[no-redef]
    def Handle(self, value: DBusUInt16) -> None:
        self._handle = value

    @dbus_property(access=PropertyAccess.READ)
    def Notifying(self) -> DBusBool:
        return self.notifying

    @dbus_property(access=PropertyAccess.READ)
    def Value(self) -> DBusBytes:
        return self._value

    @dbus_method()
    def ReadValue(self, options: DBusDict) -> DBusBytes:
        try:
            return self._on_read(self.char.uuid)
        except AttError as exc:
            raise to_dbus_error(exc) from exc

    @dbus_method()
    def WriteValue(self, value: DBusBytes, options: DBusDict) -> None:
        try:
            self._on_write(self.char.uuid, bytes(value))
        except AttError as exc:
            raise to_dbus_error(exc) from exc

    @dbus_method()
    def StartNotify(self) -> None:
        if not self.notifying:
            self.notifying = True
            self.emit_properties_changed({"Notifying": True})
            self._on_subscribe(self.char.uuid, True)

    @dbus_method()
    def StopNotify(self) -> None:
        if self.notifying:
            self.notifying = False
            self.emit_properties_changed({"Notifying": False})
            self._on_subscribe(self.char.uuid, False)

    @dbus_method()
    def Confirm(self) -> None:
        self._confirmed.set()

    async def send(self, data: bytes, confirm_timeout: float = 1.0) -> bool:
        """Notify or indicate ``data``; for an indication wait for BlueZ's Confirm."""
        if not self.notifying:
            return False
        self._value = bytes(data)
        self._confirmed.clear()
        self.emit_properties_changed({"Value": self._value})
        if "indicate" in self.char.flags:
            try:
                # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancellation.
                async with asyncio.timeout(confirm_timeout):
                    await self._confirmed.wait()
            except TimeoutError:
                return False
        return True


class LEAdvertisement(ServiceInterface):
    def __init__(
        self, local_name: str, service_uuids: list[str], on_release: Callable[[], Awaitable[None]]
    ) -> None:
        super().__init__("org.bluez.LEAdvertisement1")
        self._name = local_name
        self._uuids = service_uuids
        self._on_release = on_release

    @dbus_property(access=PropertyAccess.READ)
    def Type(self) -> DBusStr:
        return "peripheral"

    @dbus_property(access=PropertyAccess.READ)
    def ServiceUUIDs(self) -> DBusStrList:
        return self._uuids

    @dbus_property(access=PropertyAccess.READ)
    def LocalName(self) -> DBusStr:
        return self._name

    @dbus_property(access=PropertyAccess.READ)
    def Discoverable(self) -> DBusBool:
        # BlueZ (and the mock) only report a discoverable advertisement to scanners.
        return True

    @dbus_property(access=PropertyAccess.READ)
    def Includes(self) -> DBusStrList:
        return ["tx-power"]

    @dbus_method()
    async def Release(self) -> None:
        await self._on_release()


def variant_value(v: object) -> object:
    return v.value if isinstance(v, Variant) else v
