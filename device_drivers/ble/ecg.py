"""ECG session: a Polar PMD ECG stream (130 Hz) as segments with gap reports.

``async with PolarEcgStream(conn) as stream:`` subscribes to the PMD control point
(indications) and data (notifications), starts ECG at 130 Hz / 14 bit and checks the
strap's response; leaving the block stops the stream (if the link is still up).
``async for segment in stream.segments():`` yields an :class:`EcgSegment` every
``segment_s`` seconds of signal (and the remainder when the stream ends). Frames are
reassembled by their device timestamps (:class:`device_drivers.ecg_stream.EcgReassembler`):
a lost frame shows up as a gap ``(sample index, missing samples)`` in the segment; a
clock jump closes the segment early. The stream ends when the link drops or no frame
arrived for ``stall_s`` seconds (``stalled`` is then True).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator
from types import TracebackType

from device_drivers.ble.inbox import Inbox
from device_drivers.ble.session import BadPayload
from device_drivers.ble.transport import BleConnection, BleError
from device_drivers.codecs.pmd import (
    ECG_130HZ_14BIT,
    H10_ECG_HZ,
    EcgFrame,
    PmdOpCode,
    PmdResponse,
    PmdStatus,
    Settings,
    decode_ecg_frame,
    decode_pmd_control_point,
    encode_pmd_control_point,
    start_ecg,
    stop_ecg,
)
from device_drivers.ecg_stream import EcgReassembler, EcgSegment, pmd_clock_offset
from device_drivers.errors import DecodeError
from device_drivers.uuids import PMD_CONTROL_POINT, PMD_DATA

log = logging.getLogger(__name__)


class PmdFailed(BleError):
    """The strap refused a PMD command (``status``) or did not answer."""

    def __init__(self, address: str, reason: str, status: PmdStatus | None = None) -> None:
        super().__init__(address, reason)
        self.status = status


class PolarEcgStream:
    def __init__(
        self,
        conn: BleConnection,
        *,
        segment_s: float = 10.0,
        settings: Settings = ECG_130HZ_14BIT,
        reply_wait_s: float = 5.0,
        stall_s: float = 5.0,
    ) -> None:
        self.conn = conn
        self.segment_s = segment_s
        self.settings = settings
        self.reply_wait_s = reply_wait_s
        self.stall_s = stall_s
        self.reassembler = EcgReassembler(H10_ECG_HZ)
        self.bad: list[BadPayload] = []
        self.frames = 0
        self.stalled = False
        #: Gateway time minus strap time, from the first frame (radio latency ignored).
        self.clock_offset: dt.timedelta | None = None
        self._inbox = Inbox(conn)
        self._pending_samples = 0

    async def _command(self, op: PmdOpCode, data: bytes) -> PmdResponse:
        await self.conn.write(PMD_CONTROL_POINT, data, response=True)
        while (n := await self._inbox.next(self.reply_wait_s)) is not None:
            if n.char_uuid != PMD_CONTROL_POINT:
                continue  # a data frame still in flight while stopping
            try:
                value = decode_pmd_control_point(n.data)
            except DecodeError as exc:
                self.bad.append(BadPayload(n, exc))
                continue
            if isinstance(value, PmdResponse) and value.op_code == op:
                return value
        raise PmdFailed(self.conn.address, f"no response to PMD {op.name}")

    async def __aenter__(self) -> PolarEcgStream:
        await self._inbox.__aenter__()
        await self.conn.start_notify(PMD_CONTROL_POINT)
        await self.conn.start_notify(PMD_DATA)
        reply = await self._command(
            PmdOpCode.START, encode_pmd_control_point(start_ecg(self.settings))
        )
        if reply.status is not PmdStatus.SUCCESS:
            await self._inbox.__aexit__(None, None, None)
            raise PmdFailed(self.conn.address, f"start ECG: {reply.status.name}", reply.status)
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if self.conn.is_connected:
                reply = await self._command(PmdOpCode.STOP, encode_pmd_control_point(stop_ecg()))
                if reply.status not in (PmdStatus.SUCCESS, PmdStatus.ALREADY_IN_STATE):
                    log.warning("%s: stop ECG: %s", self.conn.address, reply.status.name)
        except BleError as exc:
            log.info("%s: stopping the ECG stream failed: %s", self.conn.address, exc)
        finally:
            await self._inbox.__aexit__(et, e, tb)

    @property
    def missing_samples(self) -> int:
        return self.reassembler.missing_samples

    def _add(self, frame: EcgFrame) -> list[EcgSegment]:
        self.frames += 1
        closed = self.reassembler.add(frame)
        self._pending_samples += int(frame.samples_uv.size)
        if closed:
            self._pending_samples = int(frame.samples_uv.size)
        if self._pending_samples >= self.segment_s * H10_ECG_HZ:
            segment = self.reassembler.take()
            self._pending_samples = 0
            if segment is not None:
                closed.append(segment)
        return closed

    async def segments(self) -> AsyncIterator[EcgSegment]:
        while True:
            n = await self._inbox.next(self.stall_s)
            if n is None:
                self.stalled = not self._inbox.closed
                break
            if n.char_uuid != PMD_DATA:
                continue
            try:
                frame = decode_ecg_frame(n.data)
            except DecodeError as exc:
                log.warning("%s: bad PMD frame %s: %s", self.conn.address, n.data.hex(), exc.reason)
                self.bad.append(BadPayload(n, exc))
                continue
            if self.clock_offset is None:
                self.clock_offset = pmd_clock_offset(frame, n.received_at)
            for segment in self._add(frame):
                yield segment
        rest = self.reassembler.take()
        if rest is not None:
            yield rest
