"""The production transport: BlueZ through bleak and bleak-retry-connector.

* ONE shared ``BleakScanner`` per adapter, started once; its detection callback fans
  advertisements out to subscribers by :class:`Matcher` (several scanners on one adapter
  fight each other: ``org.bluez.Error.InProgress``).
* Connections are made from the ``BLEDevice`` the scanner saw (a bare address makes
  bleak start its own scan) through ``establish_connection(BleakClientWithServiceCache,
  ...)``, which retries with error-specific backoff and a safety timeout.
* Connections go through slots (default 2: one long ECG stream plus one
  connect-download-disconnect device); connects themselves are serialized by a lock.
* Recovery beyond bleak-retry-connector (research ble.md §3.4): stale connections left by
  a crashed process are closed at start and before each connect; ``InProgress`` (not
  classified upstream) removes the device from BlueZ, waits for a fresh advertisement
  and retries; a missing required characteristic (stale GATT cache after a firmware
  change) clears the cache and reconnects once without it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from bleak import BleakClient, BleakScanner
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bleak.exc import (
    BleakCharacteristicNotFoundError,
    BleakDeviceNotFoundError,
    BleakError,
    BleakGATTProtocolError,
)
from bleak_retry_connector import (
    BleakClientWithServiceCache,
    BleakNotFoundError,
    BleakOutOfConnectionSlotsError,
    close_stale_connections,
    close_stale_connections_by_address,
    establish_connection,
)

from device_drivers.ble.faults import Faults
from device_drivers.ble.transport import (
    Advertisement,
    BleError,
    ConnectFailed,
    DeviceNotFound,
    Disconnected,
    GattError,
    Matcher,
    Notification,
    OutOfSlots,
)
from device_drivers.uuids import normalize_uuid

log = logging.getLogger(__name__)

_END = object()


def _is_in_progress(exc: BaseException) -> bool:
    text = str(exc)
    return "InProgress" in text or "already in progress" in text


class BleakConnection:
    def __init__(self, address: str) -> None:
        self._address = address
        self._queue: asyncio.Queue[Notification | object] = asyncio.Queue()
        self._gone = asyncio.Event()
        self.client: BleakClient | None = None

    def _on_disconnect(self, _client: object = None) -> None:
        if not self._gone.is_set():
            log.info("%s: disconnected", self._address)
            self._gone.set()
            self._queue.put_nowait(_END)

    def _on_value(self, sender: BleakGATTCharacteristic, data: bytearray) -> None:
        now = dt.datetime.now(dt.UTC)
        self._queue.put_nowait(Notification(normalize_uuid(sender.uuid), bytes(data), now))

    def _client(self) -> BleakClient:
        if self.client is None or self._gone.is_set() or not self.client.is_connected:
            raise Disconnected(self._address, "not connected")
        return self.client

    def _error(self, exc: BleakError, what: str) -> BleError:
        if isinstance(exc, BleakGATTProtocolError):
            return GattError(self._address, f"{what}: {exc}", int(exc.code))
        if isinstance(exc, BleakCharacteristicNotFoundError):
            return GattError(self._address, f"{what}: no such characteristic")
        if self._gone.is_set() or (self.client is not None and not self.client.is_connected):
            return Disconnected(self._address, f"{what}: {exc}")
        return GattError(self._address, f"{what}: {exc}")

    @property
    def address(self) -> str:
        return self._address

    @property
    def is_connected(self) -> bool:
        return not self._gone.is_set() and self.client is not None and self.client.is_connected

    def characteristics(self) -> frozenset[str]:
        client = self._client()
        return frozenset(
            normalize_uuid(c.uuid) for s in client.services for c in s.characteristics
        )

    async def read(self, char_uuid: str) -> bytes:
        try:
            return bytes(await self._client().read_gatt_char(normalize_uuid(char_uuid)))
        except BleakError as exc:
            raise self._error(exc, f"read {char_uuid}") from exc

    async def write(self, char_uuid: str, data: bytes, *, response: bool = True) -> None:
        try:
            await self._client().write_gatt_char(normalize_uuid(char_uuid), data, response=response)
        except BleakError as exc:
            raise self._error(exc, f"write {char_uuid}") from exc

    async def start_notify(self, char_uuid: str) -> None:
        try:
            await self._client().start_notify(normalize_uuid(char_uuid), self._on_value)
        except BleakError as exc:
            raise self._error(exc, f"start_notify {char_uuid}") from exc

    async def stop_notify(self, char_uuid: str) -> None:
        try:
            await self._client().stop_notify(normalize_uuid(char_uuid))
        except BleakError as exc:
            raise self._error(exc, f"stop_notify {char_uuid}") from exc

    async def notifications(self) -> AsyncIterator[Notification]:
        while True:
            item = await self._queue.get()
            if item is _END:
                self._queue.put_nowait(_END)
                return
            assert isinstance(item, Notification)
            yield item

    async def wait_disconnected(self) -> None:
        await self._gone.wait()

    async def pair(self) -> None:
        """Bond with the device (a registered Agent1 answers passkey requests)."""
        try:
            await self._client().pair()
        except BleakError as exc:
            raise self._error(exc, "pair") from exc

    async def disconnect(self) -> None:
        if self.client is not None:
            try:
                await self.client.disconnect()
            except BleakError as exc:  # already gone: nothing to undo
                log.debug("%s: disconnect: %s", self._address, exc)
        self._on_disconnect()


class BleakTransport:
    """Scanner + connection manager for one BlueZ adapter (see module doc)."""

    def __init__(
        self,
        *,
        adapter: str = "hci0",
        slots: int = 2,
        known_addresses: Iterable[str] = (),
        connect_attempts: int = 3,
        slot_timeout: float = 60.0,
        rediscover_timeout: float = 15.0,
        replay_s: float = 60.0,
        faults: Faults | None = None,
    ) -> None:
        self.adapter = adapter
        self._known = [a.upper() for a in known_addresses]
        self._slots = asyncio.Semaphore(slots)
        self._connect_lock = asyncio.Lock()
        self._attempts = connect_attempts
        self._slot_timeout = slot_timeout
        self._rediscover_timeout = rediscover_timeout
        self._replay_s = replay_s
        self._seen_at: dict[str, float] = {}
        self._subscribers: list[tuple[Matcher, asyncio.Queue[Advertisement]]] = []
        self.seen: dict[str, Advertisement] = {}
        self._scanner: BleakScanner | None = None
        self.faults = faults or Faults()

    async def __aenter__(self) -> BleakTransport:
        for address in self._known:  # leftovers of a crashed gateway (failure mode 10)
            await close_stale_connections_by_address(address)
        self._scanner = BleakScanner(self._on_advertisement, bluez={"adapter": self.adapter})
        await self._scanner.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._scanner is not None:
            await self._scanner.stop()
            self._scanner = None

    # Scanning ------------------------------------------------------------------------
    def _on_advertisement(self, device: BLEDevice, data: AdvertisementData) -> None:
        adv = Advertisement(
            address=device.address.upper(),
            name=data.local_name or device.name,
            rssi=data.rssi,
            service_uuids=tuple(normalize_uuid(u) for u in data.service_uuids),
            manufacturer_data=dict(data.manufacturer_data),
            service_data={normalize_uuid(k): v for k, v in data.service_data.items()},
            handle=device,
        )
        self.seen[adv.address] = adv
        self._seen_at[adv.address] = time.monotonic()
        for matcher, queue in self._subscribers:
            if matcher.matches(adv):
                queue.put_nowait(adv)

    async def advertisements(self, matcher: Matcher | None = None) -> AsyncIterator[Advertisement]:
        entry = (matcher or Matcher(), asyncio.Queue[Advertisement]())
        self._subscribers.append(entry)
        try:
            # BlueZ reports a known device only when something changes, so start with
            # what the shared scanner saw recently (not long-gone cuffs: connecting to an
            # absent device costs a whole connect timeout).
            horizon = time.monotonic() - self._replay_s
            for adv in list(self.seen.values()):
                if self._seen_at.get(adv.address, 0.0) >= horizon and entry[0].matches(adv):
                    yield adv
            while True:
                yield await entry[1].get()
        finally:
            self._subscribers.remove(entry)

    async def _rediscover(self, address: str) -> BLEDevice:
        self.seen.pop(address, None)
        self._seen_at.pop(address, None)
        try:
            async with asyncio.timeout(self._rediscover_timeout):
                async for adv in self.advertisements(Matcher.of(addresses=[address])):
                    assert isinstance(adv.handle, BLEDevice)
                    return adv.handle
        except TimeoutError:
            pass
        raise DeviceNotFound(address, "not seen again after removing it from BlueZ")

    async def _remove_from_bluez(self, device: BLEDevice) -> None:
        """``Adapter1.RemoveDevice``: the fix for a wedged InProgress connect (§3.3)."""
        from dbus_fast import BusType, Message, MessageType
        from dbus_fast.aio import MessageBus

        path = (device.details or {}).get("path") if isinstance(device.details, dict) else None
        path = path or f"/org/bluez/{self.adapter}/dev_{device.address.upper().replace(':', '_')}"
        bus = await MessageBus(bus_type=BusType.SYSTEM).connect()
        try:
            reply = await bus.call(
                Message(
                    destination="org.bluez",
                    path=f"/org/bluez/{self.adapter}",
                    interface="org.bluez.Adapter1",
                    member="RemoveDevice",
                    signature="o",
                    body=[path],
                )
            )
            if reply is not None and reply.message_type is MessageType.ERROR:
                log.warning("%s: RemoveDevice failed: %s", device.address, reply.body)
        finally:
            bus.disconnect()

    # Connecting ----------------------------------------------------------------------
    async def _establish(
        self, conn: BleakConnection, device: BLEDevice, connect_timeout: float, use_cache: bool
    ) -> BleakClient:
        address = device.address.upper()
        last: BaseException | None = None
        for attempt in range(1, self._attempts + 1):
            try:
                self.faults.before_connect(address)
                await close_stale_connections(device)
                client: BleakClient = await establish_connection(
                    BleakClientWithServiceCache,
                    device,
                    device.name or address,
                    disconnected_callback=conn._on_disconnect,
                    max_attempts=2,
                    use_services_cache=use_cache,
                    timeout=connect_timeout,
                    bluez={"adapter": self.adapter},
                )
                return client
            except BleakOutOfConnectionSlotsError as exc:
                raise OutOfSlots(address, str(exc)) from exc
            except (BleakNotFoundError, BleakDeviceNotFoundError) as exc:
                last = exc
                log.info("%s: not found (attempt %d); waiting for an advertisement",
                         address, attempt)
                device = await self._rediscover(address)
            except (BleakError, TimeoutError) as exc:
                last = exc
                if _is_in_progress(exc):
                    log.warning("%s: %s; removing it from BlueZ and rescanning", address, exc)
                    await self._remove_from_bluez(device)
                    device = await self._rediscover(address)
                else:
                    log.info("%s: connect attempt %d failed: %s", address, attempt, exc)
        raise ConnectFailed(address, f"gave up after {self._attempts} attempts: {last}")

    @asynccontextmanager
    async def connect(
        self, adv: Advertisement, *, connect_timeout: float = 20.0, required: Iterable[str] = ()
    ) -> AsyncIterator[BleakConnection]:
        device = adv.handle if isinstance(adv.handle, BLEDevice) else None
        if device is None:
            known = self.seen.get(adv.address.upper())
            if known is None or not isinstance(known.handle, BLEDevice):
                raise DeviceNotFound(adv.address, "never seen by the scanner")
            device = known.handle
        try:
            # Not wait_for: on Python 3.11 it swallows a cancellation that lands as the
            # slot is granted (CPython gh-86296), leaving the device task uncancellable.
            async with asyncio.timeout(self._slot_timeout):
                await self._slots.acquire()
        except TimeoutError:
            raise OutOfSlots(adv.address, "no free connection slot") from None
        conn = BleakConnection(adv.address.upper())
        try:
            async with self._connect_lock:
                conn.client = await self._establish(conn, device, connect_timeout, use_cache=True)
                wanted = {normalize_uuid(u) for u in required}
                if wanted - conn.characteristics():
                    # Stale GATT cache (failure mode 4): clear it and reconnect once.
                    log.warning("%s: missing %s; clearing the GATT cache", adv.address,
                                sorted(wanted - conn.characteristics()))
                    assert isinstance(conn.client, BleakClientWithServiceCache)
                    await conn.client.clear_cache()
                    await conn.disconnect()
                    conn = BleakConnection(adv.address.upper())
                    conn.client = await self._establish(
                        conn, device, connect_timeout, use_cache=False
                    )
                    missing = wanted - conn.characteristics()
                    if missing:
                        await conn.disconnect()
                        raise GattError(adv.address, f"device lacks {sorted(missing)}")
            self.faults.register_link(conn.address, conn.disconnect)
            try:
                yield conn
            finally:
                self.faults.unregister_link(conn.address)
                await conn.disconnect()
        finally:
            self._slots.release()

