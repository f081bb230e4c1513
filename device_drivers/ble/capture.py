"""Session results -> ``vitals`` readings, minted at capture (the gateway's seam).

``capture_*`` turn what a session delivered into readings (a ULID ``msg_id`` per reading,
stamped with the patient pseudonym, the device and ``simulated``) plus everything that
could not become a reading — undecodable payloads and values the mapping refused (NaN
systolic, a meter-flagged strip error) — as :class:`Rejected` with the bytes, for a
human to inspect. Nothing is dropped silently.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from device_drivers.ble.bp import BpBurst
from device_drivers.ble.glucose import GlucoseDownload
from device_drivers.ble.session import BadPayload
from device_drivers.ble.transport import Notification
from device_drivers.codecs.glucose import GlucoseContext
from device_drivers.ecg_stream import EcgSegment
from device_drivers.errors import MappingError
from device_drivers.readings import to_reading
from vitals.ids import new_msg_id
from vitals.readings import DeviceRef, Reading


@dataclass(frozen=True, slots=True)
class Rejected:
    char_uuid: str
    payload_hex: str
    reason: str
    received_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Capture:
    readings: tuple[Reading, ...] = ()
    rejected: tuple[Rejected, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Who:
    """Whose readings these are (from the gateway's device -> patient assignment)."""

    patient: str
    device: DeviceRef
    simulated: bool
    clock_offset: dt.timedelta | None = None


def _capture(
    values: Iterable[tuple[object, Notification, GlucoseContext | None]],
    bad: Iterable[BadPayload],
    who: Who,
) -> Capture:
    readings: list[Reading] = []
    rejected = [Rejected(b.notification.char_uuid, b.notification.data.hex(), b.error.reason,
                         b.notification.received_at) for b in bad]
    for value, n, context in values:
        try:
            readings.append(to_reading(
                value, msg_id=new_msg_id(n.received_at), patient=who.patient,
                device=who.device, received_at=n.received_at, simulated=who.simulated,
                clock_offset=who.clock_offset, context=context,
            ))
        except MappingError as exc:
            rejected.append(Rejected(n.char_uuid, n.data.hex(), exc.reason, n.received_at))
    return Capture(tuple(readings), tuple(rejected))


def capture_bp(burst: BpBurst, who: Who) -> Capture:
    return _capture(((r.measurement, r.notification, None) for r in burst.records),
                    burst.bad, who)


def capture_glucose(download: GlucoseDownload, who: Who) -> Capture:
    """Uses the meter clock offset measured by the session unless ``who`` brings one."""
    if who.clock_offset is None and download.clock_offset is not None:
        who = Who(who.patient, who.device, who.simulated, download.clock_offset)
    return _capture(((r.measurement, r.notification, r.context) for r in download.records),
                    download.bad, who)


def capture_ecg(segment: EcgSegment, received_at: dt.datetime, who: Who) -> Capture:
    marker = Notification("ecg-segment", b"", received_at)
    return _capture([(segment, marker, None)], (), who)
