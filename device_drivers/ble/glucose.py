"""Glucose session: incremental record download over the Record Access Control Point.

Per connection (research ble.md §1.3, the procedure the real Accu-Chek capture shows):

1. enable notifications on 0x2A18 / 0x2A34 and indications on RACP 0x2A52;
2. set the meter clock through Current Time 0x2A2B where it is writable;
3. ``04 01`` number of stored records (meters that refuse it are tolerated);
4. first contact ``01 01`` (all records); later ``01 03 01 <last>``: sequence >= last,
   i.e. the newest record already delivered (the *anchor*) plus the new ones. The anchor
   costs one record per download and is what makes a reset detectable when the meter has
   meanwhile stored more records than before (numbering restarted at 1, count grew:
   ``>= last+1`` would silently skip the new records 1..last). ``verify_anchor=False``
   gives the plain ``01 03 01 <last+1>``;
5. collect records (each 0x2A34 context joined to its 0x2A18 by sequence number) until
   ``06 00 01 <code>``; ``01`` success, ``06`` nothing new;
6. the caller stores the records durably, THEN calls :meth:`GlucoseDownload.commit`,
   which advances the cursor. A crash in between re-downloads; nothing is lost.

Meter resets (battery change, factory reset: numbering restarts) are detected when the
record count shrinks, when the anchor record is missing or different, when the count grew
but nothing is at or above the cursor, or when the meter returns sequence numbers below
the one asked for. Then everything is
downloaded again and records already delivered — fingerprinted by (sequence, base time)
— are dropped; the reset is reported in :attr:`GlucoseDownload.reset`.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from device_drivers.ble.cursors import DeviceCursor, RecordCursorStore
from device_drivers.ble.inbox import Inbox
from device_drivers.ble.session import (
    BadPayload,
    DeviceInfo,
    read_clock_offset,
    read_device_info,
    write_current_time,
)
from device_drivers.ble.transport import BleConnection, BleError, Notification
from device_drivers.codecs.glucose import (
    GlucoseContext,
    GlucoseMeasurement,
    decode_glucose_context,
    decode_glucose_measurement,
)
from device_drivers.codecs.racp import (
    RacpNumberOfRecords,
    RacpOpCode,
    RacpRequest,
    RacpResponse,
    RacpResponseCode,
    abort,
    decode_racp,
    encode_racp,
    report_all,
    report_number_of_all,
    report_since,
)
from device_drivers.errors import DecodeError
from device_drivers.glucose_readings import GlucoseRecordJoiner
from device_drivers.uuids import (
    GLUCOSE_MEASUREMENT,
    GLUCOSE_MEASUREMENT_CONTEXT,
    RECORD_ACCESS_CONTROL_POINT,
    normalize_uuid,
)

log = logging.getLogger(__name__)

GLUCOSE_SERVICE = normalize_uuid("1808")


class RacpFailed(BleError):
    """The meter answered a RACP request with an error code, or not at all."""


@dataclass(frozen=True, slots=True)
class GlucoseRecord:
    measurement: GlucoseMeasurement
    context: GlucoseContext | None
    notification: Notification  # the 0x2A18 value as received

    @property
    def sequence(self) -> int:
        return self.measurement.sequence

    @property
    def fingerprint(self) -> str:
        return f"{self.sequence}@{self.measurement.base_time.isoformat()}"


@dataclass(frozen=True, slots=True)
class MeterReset:
    """The meter's numbering went backwards; ``reason`` says how it showed."""

    reason: str
    previous_last_sequence: int | None
    previous_count: int | None
    count: int | None


@dataclass
class GlucoseDownload:
    device_key: str
    info: DeviceInfo
    records: list[GlucoseRecord] = field(default_factory=list)
    bad: list[BadPayload] = field(default_factory=list)
    reset: MeterReset | None = None
    meter_count: int | None = None
    result: RacpResponseCode | None = None
    time_set: bool = False
    #: gateway UTC - meter clock, read before the clock was set (for measured_at)
    clock_offset: dt.timedelta | None = None
    duplicates: int = 0
    _store: RecordCursorStore | None = None
    _cursor: DeviceCursor = field(default_factory=DeviceCursor)

    @property
    def complete(self) -> bool:
        return self.result in (RacpResponseCode.SUCCESS, RacpResponseCode.NO_RECORDS_FOUND)

    async def commit(self) -> None:
        """Call once the records are durably stored: advance the cursor past them."""
        if self._store is None:
            return
        last = self._cursor.last_sequence
        if self.records:
            last = max(r.sequence for r in self.records)
        elif self.reset is not None:
            last = None
        cursor = DeviceCursor(last, self.meter_count, self._cursor.seen)
        cursor = cursor.with_seen([r.fingerprint for r in self.records])
        self._store.save(self.device_key, cursor)


class _Procedure:
    """One RACP procedure over the shared inbox."""

    def __init__(self, conn: BleConnection, inbox: Inbox, out: GlucoseDownload) -> None:
        self.conn = conn
        self.inbox = inbox
        self.out = out
        self.joiner = GlucoseRecordJoiner()
        self.raw: dict[int, Notification] = {}

    def _keep(self, pairs: list[tuple[GlucoseMeasurement, GlucoseContext | None]],
              into: list[GlucoseRecord]) -> None:
        for m, c in pairs:
            into.append(GlucoseRecord(m, c, self.raw.pop(m.sequence)))

    async def run(
        self, request: RacpRequest, *, reply_wait_s: float
    ) -> tuple[RacpResponse | RacpNumberOfRecords | None, list[GlucoseRecord]]:
        records: list[GlucoseRecord] = []
        await self.conn.write(RECORD_ACCESS_CONTROL_POINT, encode_racp(request), response=True)
        while (n := await self.inbox.next(reply_wait_s)) is not None:
            try:
                if n.char_uuid == GLUCOSE_MEASUREMENT:
                    m = decode_glucose_measurement(n.data)
                    self.raw[m.sequence] = n
                    self._keep(self.joiner.add_measurement(m), records)
                elif n.char_uuid == GLUCOSE_MEASUREMENT_CONTEXT:
                    self._keep(self.joiner.add_context(decode_glucose_context(n.data)), records)
                elif n.char_uuid == RECORD_ACCESS_CONTROL_POINT:
                    value = decode_racp(n.data)
                    if isinstance(value, RacpResponse | RacpNumberOfRecords):
                        self._keep(self.joiner.flush(), records)
                        return value, records
            except DecodeError as exc:
                log.warning("%s: bad %s payload %s: %s", self.conn.address, n.char_uuid,
                            n.data.hex(), exc.reason)
                self.out.bad.append(BadPayload(n, exc))
        self._keep(self.joiner.flush(), records)
        return None, records


async def download_glucose(
    conn: BleConnection,
    store: RecordCursorStore,
    *,
    device_key: str | None = None,
    set_time: bool = True,
    verify_anchor: bool = True,
    reply_wait_s: float = 10.0,
) -> GlucoseDownload:
    """One download from a connected meter (see module doc); never advances the cursor."""
    key = device_key or conn.address
    info = await read_device_info(conn)
    cursor = store.load(key)
    out = GlucoseDownload(key, info, _store=store, _cursor=cursor)
    chars = conn.characteristics()
    async with Inbox(conn) as inbox:
        await conn.start_notify(GLUCOSE_MEASUREMENT)
        if GLUCOSE_MEASUREMENT_CONTEXT in chars:
            await conn.start_notify(GLUCOSE_MEASUREMENT_CONTEXT)
        await conn.start_notify(RECORD_ACCESS_CONTROL_POINT)
        out.clock_offset = await read_clock_offset(conn)
        if set_time:
            out.time_set = await write_current_time(conn)
        procedure = _Procedure(conn, inbox, out)

        count_reply, _ = await procedure.run(report_number_of_all(), reply_wait_s=reply_wait_s)
        if isinstance(count_reply, RacpNumberOfRecords):
            out.meter_count = count_reply.count
        last, before = cursor.last_sequence, cursor.record_count
        if last is not None and out.meter_count is not None and before is not None \
                and out.meter_count < before:
            out.reset = MeterReset(f"record count fell from {before} to {out.meter_count}",
                                   last, before, out.meter_count)
        if last is None or out.reset is not None:
            reply, records = await procedure.run(report_all(), reply_wait_s=reply_wait_s)
        else:
            floor = last if verify_anchor else (last + 1) & 0xFFFF
            reply, records = await procedure.run(report_since(floor), reply_wait_s=reply_wait_s)
            why = _reset_evidence(records, reply, floor, last, cursor, out.meter_count,
                                  verify_anchor)
            if why is not None:
                out.reset = MeterReset(why, last, before, out.meter_count)
                reply, records = await procedure.run(report_all(), reply_wait_s=reply_wait_s)
            else:
                records = [r for r in records if r.sequence != last or not verify_anchor]
        if reply is None:
            log.warning("%s: no RACP response; aborting the procedure", key)
            await _abort(conn, procedure)
        elif isinstance(reply, RacpResponse):
            if reply.request_op_code != RacpOpCode.REPORT_STORED_RECORDS:
                raise RacpFailed(key, f"response to op {reply.request_op_code}, not to a report")
            out.result = reply.code
            if reply.code not in (RacpResponseCode.SUCCESS, RacpResponseCode.NO_RECORDS_FOUND):
                log.warning("%s: RACP report failed: %s", key, reply.code.name)
        seen = set(cursor.seen) if out.reset is not None else set()
        for record in records:
            if record.fingerprint in seen:
                out.duplicates += 1
            else:
                out.records.append(record)
    return out


def _reset_evidence(
    records: list[GlucoseRecord],
    reply: RacpResponse | RacpNumberOfRecords | None,
    floor: int,
    last: int,
    cursor: DeviceCursor,
    count: int | None,
    verify_anchor: bool,
) -> str | None:
    """Why the answer to ">= floor" shows the numbering restarted, or None."""
    below = [r.sequence for r in records if r.sequence < floor]
    if below:
        return f"meter sent sequence {min(below)} for a request >= {floor}"
    nothing = isinstance(reply, RacpResponse) and reply.code is RacpResponseCode.NO_RECORDS_FOUND
    before = cursor.record_count
    if nothing and count is not None and before is not None and count > before:
        return f"count grew {before}->{count} but nothing >= {floor}"
    if verify_anchor and (count is None or count > 0):
        anchor = next((r for r in records if r.sequence == last), None)
        if anchor is None:
            return f"record #{last} (the newest delivered) is gone"
        if anchor.fingerprint not in cursor.seen:
            return f"record #{last} is a different record now ({anchor.fingerprint})"
    return None


async def _abort(conn: BleConnection, procedure: _Procedure) -> None:
    try:
        await procedure.run(abort(), reply_wait_s=2.0)
    except BleError as exc:
        log.info("%s: abort failed: %s", conn.address, exc)
