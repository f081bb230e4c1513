"""In-process BLE transport: sessions talk to simulated peripherals directly.

Same contract as the bleak transport (advertisements from one scanner loop, connections
through slots, merged in-order notifications that end when the link drops), without
D-Bus. A simulated device implements :class:`Peripheral`; ``firmware_sim`` adapts its
device models to it. Unlike the BlueZ mock, a peripheral here CAN disconnect the central.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import Protocol

from device_drivers.ble.faults import Faults
from device_drivers.ble.transport import (
    Advertisement,
    ConnectFailed,
    DeviceNotFound,
    Disconnected,
    GattError,
    Matcher,
    Notification,
    OutOfSlots,
)
from device_drivers.uuids import normalize_uuid


class AttRejection(Exception):
    """Raised by a peripheral to reject a GATT operation with an ATT error code."""

    def __init__(self, code: int, reason: str) -> None:
        self.code = code
        self.reason = reason
        super().__init__(f"ATT error {code:#04x}: {reason}")


class PeripheralLink(Protocol):
    """What a connected peripheral may do to its central."""

    async def notify(self, char_uuid: str, data: bytes) -> None: ...

    async def disconnect(self) -> None: ...


class Peripheral(Protocol):
    @property
    def address(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def advertising(self) -> bool: ...

    def advertised_services(self) -> tuple[str, ...]: ...

    def characteristics(self) -> Mapping[str, frozenset[str]]:
        """Canonical char UUID -> BlueZ-style flags (read, write, notify, indicate...)."""
        ...

    async def connected(self, link: PeripheralLink) -> None: ...

    async def disconnected(self) -> None: ...

    async def read(self, char_uuid: str) -> bytes: ...

    async def write(self, char_uuid: str, data: bytes, *, response: bool) -> None: ...

    async def subscribe(self, char_uuid: str, enabled: bool) -> None: ...


_END = object()


class MemoryConnection:
    def __init__(self, peripheral: Peripheral) -> None:
        self._p = peripheral
        self._queue: asyncio.Queue[Notification | object] = asyncio.Queue()
        self._subscribed: set[str] = set()
        self._gone = asyncio.Event()

    # PeripheralLink side -------------------------------------------------------------
    async def notify(self, char_uuid: str, data: bytes) -> None:
        uuid = normalize_uuid(char_uuid)
        if self._gone.is_set() or uuid not in self._subscribed:
            return  # like the air: nobody listening, nothing delivered
        self._queue.put_nowait(Notification(uuid, bytes(data), dt.datetime.now(dt.UTC)))
        await asyncio.sleep(0)  # let the central run, as an indication round-trip would

    async def disconnect(self) -> None:
        if self._gone.is_set():
            return
        self._gone.set()
        self._queue.put_nowait(_END)
        await self._p.disconnected()

    # BleConnection side --------------------------------------------------------------
    @property
    def address(self) -> str:
        return self._p.address

    @property
    def is_connected(self) -> bool:
        return not self._gone.is_set()

    def characteristics(self) -> frozenset[str]:
        return frozenset(self._p.characteristics())

    def _check(self, char_uuid: str, *flags: str) -> str:
        if self._gone.is_set():
            raise Disconnected(self.address, "not connected")
        uuid = normalize_uuid(char_uuid)
        have = self._p.characteristics().get(uuid)
        if have is None:
            raise GattError(self.address, f"no characteristic {uuid}")
        if not have & set(flags):
            raise GattError(self.address, f"{uuid} does not support {'/'.join(flags)}")
        return uuid

    async def read(self, char_uuid: str) -> bytes:
        uuid = self._check(char_uuid, "read")
        try:
            return await self._p.read(uuid)
        except AttRejection as exc:
            raise GattError(self.address, exc.reason, exc.code) from exc

    async def write(self, char_uuid: str, data: bytes, *, response: bool = True) -> None:
        uuid = self._check(char_uuid, "write" if response else "write-without-response")
        try:
            await self._p.write(uuid, bytes(data), response=response)
        except AttRejection as exc:
            raise GattError(self.address, exc.reason, exc.code) from exc

    async def start_notify(self, char_uuid: str) -> None:
        uuid = self._check(char_uuid, "notify", "indicate")
        self._subscribed.add(uuid)
        await self._p.subscribe(uuid, True)

    async def stop_notify(self, char_uuid: str) -> None:
        uuid = self._check(char_uuid, "notify", "indicate")
        self._subscribed.discard(uuid)
        await self._p.subscribe(uuid, False)

    async def notifications(self) -> AsyncIterator[Notification]:
        while True:
            item = await self._queue.get()
            if item is _END:
                self._queue.put_nowait(_END)  # a second iterator also ends
                return
            assert isinstance(item, Notification)
            yield item

    async def wait_disconnected(self) -> None:
        await self._gone.wait()


class MemoryTransport:
    """Scanner and connection manager over in-process peripherals."""

    def __init__(
        self,
        peripherals: Iterable[Peripheral] = (),
        *,
        slots: int = 2,
        scan_interval: float = 0.05,
        slot_timeout: float = 30.0,
        faults: Faults | None = None,
    ) -> None:
        self.peripherals = list(peripherals)
        self._slots = asyncio.Semaphore(slots)
        self._slot_timeout = slot_timeout
        self._interval = scan_interval
        self._live: dict[str, MemoryConnection] = {}
        self.faults = faults or Faults()

    async def __aenter__(self) -> MemoryTransport:
        return self

    async def __aexit__(self, *exc: object) -> None:
        for conn in list(self._live.values()):
            await conn.disconnect()

    def add(self, peripheral: Peripheral) -> None:
        self.peripherals.append(peripheral)

    def _advertisement(self, p: Peripheral) -> Advertisement:
        return Advertisement(
            p.address, p.name, -60, tuple(normalize_uuid(u) for u in p.advertised_services()),
            handle=p,
        )

    async def advertisements(self, matcher: Matcher | None = None) -> AsyncIterator[Advertisement]:
        matcher = matcher or Matcher()
        while True:
            for p in list(self.peripherals):
                adv = self._advertisement(p)
                if p.advertising and p.address not in self._live and matcher.matches(adv):
                    yield adv
            await asyncio.sleep(self._interval)

    @asynccontextmanager
    async def connect(
        self, adv: Advertisement, *, connect_timeout: float = 20.0, required: Iterable[str] = ()
    ) -> AsyncIterator[MemoryConnection]:
        peripheral = next((p for p in self.peripherals if p.address == adv.address), None)
        if peripheral is None or not peripheral.advertising:
            raise DeviceNotFound(adv.address, "not advertising")
        try:
            # Not wait_for: on Python 3.11 it swallows a cancellation that lands as the
            # slot is granted (CPython gh-86296), leaving the device task uncancellable.
            async with asyncio.timeout(self._slot_timeout):
                await self._slots.acquire()
        except TimeoutError:
            raise OutOfSlots(adv.address, "no free connection slot") from None
        try:
            try:
                self.faults.before_connect(adv.address)
            except Exception as exc:
                raise ConnectFailed(adv.address, str(exc)) from exc
            if adv.address in self._live:
                raise ConnectFailed(adv.address, "already connected")
            conn = MemoryConnection(peripheral)
            self._live[adv.address] = conn
            self.faults.register_link(adv.address, conn.disconnect)
            try:
                missing = {normalize_uuid(u) for u in required} - conn.characteristics()
                if missing:
                    raise GattError(adv.address, f"device lacks {sorted(missing)}")
                await peripheral.connected(conn)
                yield conn
            finally:
                self.faults.unregister_link(adv.address)
                self._live.pop(adv.address, None)
                await conn.disconnect()
        finally:
            self._slots.release()
