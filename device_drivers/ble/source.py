"""A gateway device task for one paired BLE device.

:class:`BleDeviceSource` has the shape of the gateway's device seam (``device_id`` and
``readings()`` yielding ``Reading | GatewayEvent``) without importing the gateway. It
loops forever (:func:`watch.sessions`): connect when the device advertises, run the
session for its kind, yield the captured readings and events.

Durability handshake: the gateway pipeline stores each item before it asks for the
next one, so the source commits a batch's cursor only when the consumer comes back
after the batch's last item. If the task is cancelled in between, nothing is committed
and the device's records are downloaded again next time (then deduplicated).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import replace
from typing import TypeVar

from device_drivers.ble.bp import collect_bp
from device_drivers.ble.capture import (
    Capture,
    Rejected,
    Who,
    capture_bp,
    capture_ecg,
    capture_glucose,
)
from device_drivers.ble.cursors import RecordCursorStore
from device_drivers.ble.ecg import PolarEcgStream
from device_drivers.ble.glucose import download_glucose
from device_drivers.ble.session import (
    BadPayload,
    DeviceInfo,
    collect,
    read_battery_level,
    read_device_info,
)
from device_drivers.ble.transport import BleConnection, BleError, BleTransport, Matcher
from device_drivers.ble.watch import sessions
from device_drivers.codecs.registry import decode
from device_drivers.errors import DecodeError, MappingError
from device_drivers.readings import to_reading
from device_drivers.uuids import (
    BLOOD_PRESSURE_MEASUREMENT,
    HEART_RATE_MEASUREMENT,
    PLX_CONTINUOUS_MEASUREMENT,
    PLX_SPOT_CHECK_MEASUREMENT,
    PMD_DATA,
    RECORD_ACCESS_CONTROL_POINT,
    WEIGHT_MEASUREMENT,
)
from vitals.ids import new_msg_id
from vitals.readings import Reading, ReadingKind
from vitals.wire import GatewayEvent

log = logging.getLogger(__name__)

Item = Reading | GatewayEvent
T = TypeVar("T")
Battery = int | BadPayload | None

#: Characteristics collected for the simple notify/indicate kinds.
_SIMPLE = {
    ReadingKind.HEART_RATE: [HEART_RATE_MEASUREMENT],
    ReadingKind.SPO2: [PLX_SPOT_CHECK_MEASUREMENT, PLX_CONTINUOUS_MEASUREMENT],
    ReadingKind.BODY_WEIGHT: [WEIGHT_MEASUREMENT],
}


class BleDeviceSource:
    def __init__(
        self,
        transport: BleTransport,
        *,
        address: str,
        kind: ReadingKind,
        who: Who,
        cursors: RecordCursorStore,
        device_id: str | None = None,
        cooldown_s: float = 30.0,
        ecg_segment_s: float = 10.0,
        simple_max: int = 10,
        retry_s: float = 5.0,
    ) -> None:
        self.transport = transport
        self.address = address.upper()
        self.kind = kind
        self.who = who
        self.cursors = cursors
        self.device_id = device_id or self.address
        self.cooldown_s = cooldown_s
        self.ecg_segment_s = ecg_segment_s
        self.simple_max = simple_max
        self.retry_s = retry_s
        self._info: DeviceInfo | None = None  # Device Information from the first session
        #: Battery Level (percent) from the latest connection that had one, else None
        self.battery_pct: int | None = None

    def _and_battery(
        self, run: Callable[[BleConnection], Awaitable[T]]
    ) -> Callable[[BleConnection], Awaitable[tuple[Battery, T]]]:
        """The session ``run``, after one Battery Level read (before it: a cuff hangs up
        once its burst is sent)."""
        async def both(conn: BleConnection) -> tuple[Battery, T]:
            battery = await read_battery_level(conn)
            return battery, await run(conn)
        return both

    def _battery_items(self, battery: Battery) -> Iterable[Item]:
        """Keep a read level as ``battery_pct`` (the gateway's status heartbeat reports
        it); an undecodable value becomes a ``decode_error`` event like any other."""
        if isinstance(battery, BadPayload):
            n = battery.notification
            yield self._rejected(Rejected(n.char_uuid, n.data.hex(), battery.error.reason,
                                          n.received_at))
        elif battery is not None:
            self.battery_pct = battery

    def _who(self, info: DeviceInfo) -> Who:
        device = self.who.device.model_copy(update={
            k: v for k, v in {"serial": info.serial, "firmware": info.firmware}.items() if v
        })
        if info.is_simulator and not self.who.simulated:
            log.warning("%s identifies as a HomeRPM simulator: marking its readings simulated",
                        self.address)
        return replace(self.who, device=device, simulated=self.who.simulated or info.is_simulator)

    def _event(
        self, code: str, detail: dict[str, object], at: dt.datetime | None = None
    ) -> GatewayEvent:
        at = at or dt.datetime.now(dt.UTC)
        return GatewayEvent(msg_id=new_msg_id(at), at=at, code=code, device=self.who.device.key,
                            detail=detail, simulated=self.who.simulated)

    def _items(self, capture: Capture) -> Iterable[Item]:
        yield from capture.readings
        for r in capture.rejected:
            yield self._rejected(r)

    def _rejected(self, r: Rejected) -> GatewayEvent:
        return self._event("decode_error", {"characteristic": r.char_uuid,
                                            "payload_hex": r.payload_hex, "reason": r.reason},
                           r.received_at)

    async def readings(self) -> AsyncIterator[Item]:
        if self.kind is ReadingKind.BLOOD_PRESSURE:
            async for battery, burst in sessions(
                self.transport, self.address,
                self._and_battery(lambda c: collect_bp(c, store=self.cursors,
                                                       device_key=self.address, info=self._info)),
                required=[BLOOD_PRESSURE_MEASUREMENT], cooldown_s=self.cooldown_s,
            ):
                for item in self._battery_items(battery):
                    yield item
                if burst.info.manufacturer or burst.info.model:
                    self._info = burst.info
                for item in self._items(capture_bp(burst, self._who(burst.info))):
                    yield item
                await burst.commit()  # the consumer is back: everything above is stored
        elif self.kind is ReadingKind.GLUCOSE:
            async for battery, download in sessions(
                self.transport, self.address,
                self._and_battery(lambda c: download_glucose(c, self.cursors,
                                                             device_key=self.address)),
                required=[RECORD_ACCESS_CONTROL_POINT], cooldown_s=self.cooldown_s,
            ):
                for item in self._battery_items(battery):
                    yield item
                if download.reset is not None:
                    yield self._event("meter_reset", {
                        "reason": download.reset.reason,
                        "previous_last_sequence": download.reset.previous_last_sequence,
                        "previous_count": download.reset.previous_count,
                        "count": download.reset.count})
                for item in self._items(capture_glucose(download, self._who(download.info))):
                    yield item
                await download.commit()
        elif self.kind is ReadingKind.ECG:
            async for item in self._ecg():
                yield item
        elif self.kind in _SIMPLE:
            async for battery, items in sessions(self.transport, self.address,
                                                 self._and_battery(self._simple),
                                                 cooldown_s=self.cooldown_s):
                for item in (*self._battery_items(battery), *items):
                    yield item
        else:
            raise ValueError(f"no BLE session for {self.kind.value}")

    async def _simple(self, conn: BleConnection) -> list[Item]:
        info = await read_device_info(conn)
        who = self._who(info)
        chars = [c for c in _SIMPLE[self.kind] if c in conn.characteristics()]
        out: list[Item] = []
        for n in await collect(conn, chars, max_count=self.simple_max):
            try:
                value = decode(n.char_uuid, n.data, info.quirks)
                out.append(to_reading(value, msg_id=new_msg_id(n.received_at), patient=who.patient,
                                      device=who.device, received_at=n.received_at,
                                      simulated=who.simulated, clock_offset=who.clock_offset))
            except (DecodeError, MappingError) as exc:
                out.append(self._rejected(Rejected(n.char_uuid, n.data.hex(),
                                                   getattr(exc, "reason", str(exc)),
                                                   n.received_at)))
        return out

    async def _ecg(self) -> AsyncIterator[Item]:
        """Stream while connected; reconnect when the strap comes back."""
        matcher = Matcher.of(addresses=[self.address])
        while True:
            scan = self.transport.advertisements(matcher)
            adv = await anext(scan)
            close = getattr(scan, "aclose", None)
            if close is not None:
                await close()
            try:
                async with self.transport.connect(adv, required=[PMD_DATA]) as conn:
                    who = self._who(await read_device_info(conn))
                    for item in self._battery_items(await read_battery_level(conn)):
                        yield item
                    async with PolarEcgStream(conn, segment_s=self.ecg_segment_s) as stream:
                        async for segment in stream.segments():
                            now = dt.datetime.now(dt.UTC)
                            capture = capture_ecg(
                                segment, now, replace(who, clock_offset=stream.clock_offset))
                            for item in self._items(capture):
                                yield item
            except BleError as exc:
                log.warning("%s: ECG stream ended: %s", self.address, exc)
                yield self._event("stream_interrupted", {"reason": str(exc)[:500]})
            await asyncio.sleep(self.retry_s)
