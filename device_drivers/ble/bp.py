"""Blood-pressure session: collect a cuff's burst of stored results.

Cuffs (BLS 1.0) have no record access: on connect the gateway subscribes to
Intermediate Cuff Pressure 0x2A36 (notify, optional) and Blood Pressure Measurement
0x2A35 (indicate) and takes what comes until the cuff disconnects or stays quiet for
``quiet_timeout`` seconds (BlueZ-side disconnects from the cuff are the normal end; the
quiet timeout covers stacks and mocks that never report them).

Many cuffs resend every stored record on every connection, so records are
deduplicated by their exact bytes — within the burst and against fingerprints kept in
the :class:`RecordCursorStore`, which advance only on :meth:`BpBurst.commit`.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field

from device_drivers.ble.cursors import RecordCursorStore
from device_drivers.ble.inbox import Inbox
from device_drivers.ble.session import BadPayload, DeviceInfo, read_device_info
from device_drivers.ble.transport import BleConnection, Notification
from device_drivers.codecs.bp import (
    BloodPressureMeasurement,
    IntermediateCuffPressure,
    decode_bp_measurement,
    decode_intermediate_cuff_pressure,
)
from device_drivers.errors import DecodeError
from device_drivers.uuids import (
    BLOOD_PRESSURE_MEASUREMENT,
    INTERMEDIATE_CUFF_PRESSURE,
    normalize_uuid,
)

log = logging.getLogger(__name__)

BP_SERVICE = normalize_uuid("1810")


@dataclass(frozen=True, slots=True)
class BpRecord:
    notification: Notification
    measurement: BloodPressureMeasurement

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.notification.data)


def fingerprint(payload: bytes) -> str:
    return hashlib.blake2s(payload, digest_size=8).hexdigest()


@dataclass
class BpBurst:
    """What one connection to a cuff delivered."""

    device_key: str
    info: DeviceInfo
    records: list[BpRecord] = field(default_factory=list)
    intermediate: list[IntermediateCuffPressure] = field(default_factory=list)
    bad: list[BadPayload] = field(default_factory=list)
    duplicates: int = 0
    disconnected_by_device: bool = False
    _store: RecordCursorStore | None = None

    async def commit(self) -> None:
        """Call once the records are durably stored: remember them as seen."""
        if self._store is not None and self.records:
            cursor = self._store.load(self.device_key)
            seen = cursor.with_seen([r.fingerprint for r in self.records])
            self._store.save(self.device_key, seen)


async def collect_bp(
    conn: BleConnection,
    *,
    store: RecordCursorStore | None = None,
    device_key: str | None = None,
    quiet_timeout: float = 10.0,
    first_timeout: float = 20.0,
    info: DeviceInfo | None = None,
) -> BpBurst:
    """Subscribe and collect the cuff's burst (see module doc).

    ``info``: Device Information known from an earlier session; when given, the cuff is
    subscribed to at once (its transfer window can be a few seconds), else it is read
    first to pick the quirk profile.
    """
    key = device_key or conn.address
    info = info or await read_device_info(conn)
    quirks = info.quirks
    seen = set(store.load(key).seen) if store is not None else set()
    burst = BpBurst(key, info, _store=store)
    chars = conn.characteristics()
    async with Inbox(conn) as inbox:
        if INTERMEDIATE_CUFF_PRESSURE in chars:
            await conn.start_notify(INTERMEDIATE_CUFF_PRESSURE)
        await conn.start_notify(BLOOD_PRESSURE_MEASUREMENT)
        timeout = first_timeout
        while (n := await inbox.next(timeout)) is not None:
            timeout = quiet_timeout
            try:
                if n.char_uuid == INTERMEDIATE_CUFF_PRESSURE:
                    burst.intermediate.append(decode_intermediate_cuff_pressure(n.data, quirks))
                    continue
                if n.char_uuid != BLOOD_PRESSURE_MEASUREMENT:
                    continue
                measurement = decode_bp_measurement(n.data, quirks)
            except DecodeError as exc:
                log.warning("%s: bad %s payload %s: %s", key, n.char_uuid, n.data.hex(), exc.reason)
                burst.bad.append(BadPayload(n, exc))
                continue
            record = BpRecord(n, measurement)
            if record.fingerprint in seen:
                burst.duplicates += 1
                continue
            seen.add(record.fingerprint)
            burst.records.append(record)
        burst.disconnected_by_device = inbox.closed
    return burst
