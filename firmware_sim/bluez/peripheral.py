"""Run a device model as a BlueZ peripheral: GATT application + LE advertisement.

Works against a real ``bluetoothd`` on a Linux box with a radio (``homerpm sim device
bp --bluez --adapter hci0``) and against the BlueZoo mock in CI. The model sees the
same events as in-process: connect/disconnect (from ``Device1.Connected`` of the
central as it appears under our adapter, or implied by the first GATT access),
reads, writes, subscriptions and stream ticks.

One model per adapter: BlueZ (and the mock) advertise one device per controller.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from types import TracebackType

from dbus_fast import BusType, Message, MessageType, Variant
from dbus_fast.aio import MessageBus

from firmware_sim.bluez.objects import GattCharacteristic, GattService, LEAdvertisement
from firmware_sim.devices.gatt_model import DeviceModel
from firmware_sim.devices.gatt_runner import DeviceRunner

log = logging.getLogger(__name__)

_ids = itertools.count(1)


class BluezError(RuntimeError):
    pass


class BluezDevice:
    def __init__(
        self,
        model: DeviceModel,
        *,
        adapter: str = "hci1",
        time_scale: float = 1.0,
        notify_gap_s: float = 0.005,
    ) -> None:
        self.model = model
        self.adapter = adapter
        self.adapter_path = f"/org/bluez/{adapter}"
        n = next(_ids)
        self._n = n
        self.root = f"/org/homerpm/sim{n}"
        self.adv_path = f"/org/homerpm/adv{n}"
        self._gap = notify_gap_s
        self._bus: MessageBus | None = None
        self._chars: dict[str, GattCharacteristic] = {}
        self._advertising = False
        self._runner = DeviceRunner(model, self, time_scale=time_scale)
        self._tg: asyncio.TaskGroup | None = None
        self._runner_task: asyncio.Task[None] | None = None
        self.connections = 0

    # D-Bus plumbing ------------------------------------------------------------------
    async def _call(self, path: str, interface: str, member: str, signature: str = "",
                    body: list[object] | None = None) -> Message:
        assert self._bus is not None
        reply = await self._bus.call(
            Message(destination="org.bluez", path=path, interface=interface, member=member,
                    signature=signature, body=body or [])
        )
        assert reply is not None
        if reply.message_type is MessageType.ERROR:
            raise BluezError(f"{interface}.{member}: {reply.error_name} {reply.body}")
        return reply

    def _export(self, bus: MessageBus) -> None:
        by_service: dict[str, list[str]] = {}
        for char in self.model.chars():
            by_service.setdefault(char.service, []).append(char.uuid)
        # Above the daemon's own GAP/GATT/plug-in services; one 0x100 block per app.
        handle = 0x0100 * (self._n % 0xF0 + 1)
        for s_index, (service_uuid, _) in enumerate(by_service.items()):
            s_path = f"{self.root}/service{s_index}"
            bus.export(s_path, GattService(service_uuid, handle))
            handle += 1
            chars = [c for c in self.model.chars() if c.service == service_uuid]
            for c_index, char in enumerate(chars):
                obj = GattCharacteristic(
                    char, s_path, handle, on_read=self._on_read, on_write=self._on_write,
                    on_subscribe=self._on_subscribe,
                )
                handle += 2
                bus.export(f"{s_path}/char{c_index}", obj)
                self._chars[char.uuid] = obj
            handle = (handle + 0x10) & ~0x0F

    async def __aenter__(self) -> BluezDevice:
        self._bus = await MessageBus(bus_type=BusType.SYSTEM).connect()
        self._export(self._bus)
        self._bus.export(self.adv_path, LEAdvertisement(
            self.model.name, list(self.model.primary_services()), self._released))
        self._bus.add_message_handler(self._on_signal)
        await self._bus.call(Message(
            destination="org.freedesktop.DBus", path="/org/freedesktop/DBus",
            interface="org.freedesktop.DBus", member="AddMatch", signature="s",
            body=[f"type='signal',sender='org.bluez',interface='org.freedesktop.DBus.Properties',"
                  f"member='PropertiesChanged',path_namespace='{self.adapter_path}'"]))
        await self._call(self.adapter_path, "org.bluez.GattManager1", "RegisterApplication",
                         "oa{sv}", [self.root, {}])
        self._tg = asyncio.TaskGroup()
        await self._tg.__aenter__()
        self._runner_task = self._tg.create_task(self._runner.run())
        await self.sync_advertising()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._runner_task is not None:
            self._runner_task.cancel()
        if self._tg is not None:
            await self._tg.__aexit__(et, e, tb)
        if self._bus is not None:
            try:
                await self._set_advertising(False)
                await self._call(self.adapter_path, "org.bluez.GattManager1",
                                 "UnregisterApplication", "o", [self.root])
            except BluezError as exc:
                log.info("cleanup: %s", exc)
            self._bus.disconnect()
            self._bus = None

    async def _released(self) -> None:
        self._advertising = False

    async def _set_advertising(self, on: bool) -> None:
        if on == self._advertising:
            return
        manager = "org.bluez.LEAdvertisingManager1"
        if on:
            await self._call(self.adapter_path, manager, "RegisterAdvertisement", "oa{sv}",
                             [self.adv_path, {}])
        else:
            await self._call(self.adapter_path, manager, "UnregisterAdvertisement", "o",
                             [self.adv_path])
        self._advertising = on

    async def sync_advertising(self) -> None:
        """Advertise iff the model wants to (call after e.g. ``cuff.measure(...)``)."""
        await self._set_advertising(self.model.advertising)

    # Model events --------------------------------------------------------------------
    def _ensure_connected(self) -> None:
        if not self.model.connected:
            self.connections += 1
            self._runner.submit(self.model.on_connect())

    def _disconnected(self) -> None:
        if self.model.connected:
            self.model.on_disconnect()
        for obj in self._chars.values():
            obj.notifying = False

    def _on_signal(self, msg: Message) -> None:
        if (msg.message_type is not MessageType.SIGNAL or msg.member != "PropertiesChanged"
                or not msg.path or not msg.path.startswith(self.adapter_path + "/dev_")):
            return
        interface, changed = msg.body[0], msg.body[1]
        if interface != "org.bluez.Device1" or "Connected" not in changed:
            return
        value = changed["Connected"]
        connected = value.value if isinstance(value, Variant) else value
        if connected:
            self._ensure_connected()
        else:
            self._disconnected()

    def _on_read(self, uuid: str) -> bytes:
        self._ensure_connected()
        return self.model.read(uuid)

    def _on_write(self, uuid: str, data: bytes) -> None:
        self._ensure_connected()
        self._runner.submit(self.model.write(uuid, data))

    def _on_subscribe(self, uuid: str, enabled: bool) -> None:
        self._ensure_connected()
        self._runner.submit(self.model.subscribe(uuid, enabled))

    # LinkSink (driven by the runner) -------------------------------------------------
    async def notify(self, char_uuid: str, data: bytes) -> None:
        obj = self._chars.get(char_uuid)
        if obj is not None and await obj.send(data):
            await asyncio.sleep(self._gap)  # keep order across characteristics

    async def stop_advertising(self) -> None:
        try:
            await self._set_advertising(False)
        except BluezError as exc:  # e.g. BlueZ already released it: not worth dying for
            log.warning("stop advertising: %s", exc)

    async def disconnect(self) -> None:
        """Disconnect every central connected to our adapter (real BlueZ delivers this;
        the mock does not tell the central, research ble.md §4.4)."""
        try:
            reply = await self._call("/", "org.freedesktop.DBus.ObjectManager",
                                     "GetManagedObjects")
        except BluezError as exc:
            log.warning("disconnect: cannot list devices: %s", exc)
            self._disconnected()
            return
        for path, interfaces in reply.body[0].items():
            device = interfaces.get("org.bluez.Device1")
            if not path.startswith(self.adapter_path + "/") or device is None:
                continue
            connected = device.get("Connected")
            if connected is not None and connected.value:
                try:
                    await self._call(path, "org.bluez.Device1", "Disconnect")
                except BluezError as exc:
                    log.info("disconnect %s: %s", path, exc)
        self._disconnected()
