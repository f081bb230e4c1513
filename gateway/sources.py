"""Turn the ``[[devices]]`` config into running device sources.

Decoding uses the shared GATT codecs (``device_drivers``). Simulated devices come from
``firmware_sim``, loaded by module name only when a device is configured as simulated:
the gateway does not depend on the simulator package (DESIGN.md import rules), a
simulated cuff is just another :class:`~gateway.devices.FrameSource` producing the same
bytes a real one would. Real BLE devices need the bleak transport, which is not built yet.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from device_drivers.codecs.bp import decode_bp_measurement
from device_drivers.readings import bp_to_reading
from device_drivers.uuids import BLOOD_PRESSURE_MEASUREMENT
from edge_rules.ids import derived_ulid
from gateway.config import DeviceConfig, GatewayConfig
from gateway.devices import Assignment, DeviceSource, DeviceTask, Frame
from vitals.ids import new_msg_id
from vitals.readings import BloodPressure, DeviceRef, ReadingKind

log = logging.getLogger(__name__)

SIMULATORS = {ReadingKind.BLOOD_PRESSURE: "firmware_sim.devices.bp_cuff"}


class UnsupportedDevice(ValueError):
    """The configuration names a device this build cannot run yet."""


def decode_blood_pressure(frame: Frame, who: Assignment) -> BloodPressure | None:
    """0x2A35 → BloodPressure, with the msg_id minted now (at capture)."""
    if frame.characteristic != BLOOD_PRESSURE_MEASUREMENT:
        return None  # e.g. intermediate cuff pressure while inflating: not a result
    measurement = decode_bp_measurement(frame.data)
    return bp_to_reading(
        measurement, msg_id=new_msg_id(frame.received_at), patient=who.patient,
        device=who.device, received_at=frame.received_at, simulated=who.simulated,
    )


class SimulatedFrames:
    """A FrameSource over a firmware_sim device's indications."""

    def __init__(self, device: DeviceConfig) -> None:
        module = importlib.import_module(SIMULATORS[device.kind])
        self._cuff = module.BpCuff(scenario=device.scenario, seed=device.seed)
        self._characteristic: str = module.CHARACTERISTIC
        self._interval_s = device.interval_s
        self._count = device.count

    async def frames(self) -> AsyncIterator[Frame]:
        async for data in self._cuff.indications(self._interval_s, self._count):
            yield Frame(self._characteristic, data, datetime.now(UTC))


class RecordStream:
    """A cuff's record memory played back fast, resumable across crashes (tests, bench).

    Record ``k`` always has the same values, device time (``2026-01-01 08:00`` +
    ``k × interval_s``) and ``msg_id`` (derived from device id, seed and ``k``, like a
    meter's sequence number), so a record delivered twice is the same reading. The
    position is kept in ``cursor`` (a small file, replaced atomically) every
    ``commit_every`` records, only after the consumer came back — i.e. after the pipeline
    stored them; after a ``kill -9`` the stream resumes there and the few records played
    again are ignored by the outbox (same msg_id).
    """

    def __init__(self, device: DeviceConfig, cursor: Path, commit_every: int = 50) -> None:
        module = importlib.import_module(SIMULATORS[device.kind])
        self._module = module
        self.device = device
        self.device_id = device.id or "records"
        self.who = assignment(device)
        self.cursor = cursor
        self.commit_every = commit_every

    def _load(self) -> int:
        try:
            return int(json.loads(self.cursor.read_text())["next"])
        except (OSError, ValueError, KeyError):
            return 0

    def _save(self, k: int) -> None:
        tmp = self.cursor.with_suffix(".tmp")
        with open(tmp, "w") as f:
            f.write(json.dumps({"next": k}))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.cursor)

    async def readings(self) -> AsyncIterator[BloodPressure]:
        d = self.device
        base = datetime(2026, 1, 1, 8, 0)
        k = 0
        clock = {"at": base}
        cuff = self._module.BpCuff(scenario=d.scenario, seed=d.seed, clock=lambda: clock["at"])
        start = self._load()
        while d.count == 0 or k < d.count:
            clock["at"] = base + timedelta(seconds=k * d.interval_s)
            data = cuff.measurement_bytes()
            if k >= start:
                now = datetime.now(UTC)
                m = decode_bp_measurement(data)
                key = f"{self.device_id}/{d.seed}/{k}"
                yield bp_to_reading(
                    m, msg_id=derived_ulid(clock["at"].replace(tzinfo=UTC), key),
                    patient=self.who.patient, device=self.who.device, received_at=now,
                    simulated=True)
                # The consumer is back: record k is stored.
                if (k + 1) % self.commit_every == 0:
                    self._save(k + 1)
                await asyncio.sleep(d.interval_s if d.interval_s >= 0.001 else 0)
            k += 1
        self._save(k)


def assignment(device: DeviceConfig) -> Assignment:
    assert device.id is not None  # filled in by GatewayConfig
    ref = DeviceRef(
        make=device.make or ("HomeRPM" if device.simulated else "unknown"),
        model=device.model or ("SimCuff" if device.simulated else "unknown"),
        address=device.address,
        serial=device.serial or (f"sim-{device.id}" if device.simulated else None),
    )
    return Assignment(device.id, device.patient, ref, device.simulated)


def build_source(device: DeviceConfig) -> DeviceSource:
    if device.kind is not ReadingKind.BLOOD_PRESSURE:
        raise UnsupportedDevice(f"device {device.id}: {device.kind.value} is not supported yet")
    if not device.simulated:
        raise UnsupportedDevice(
            f"device {device.id}: real BLE devices need the Bluetooth transport (not built yet)")
    return DeviceTask(assignment(device), SimulatedFrames(device), decode_blood_pressure)


def build_sources(cfg: GatewayConfig) -> list[DeviceSource]:
    sources: list[DeviceSource] = []
    for device in cfg.devices:
        try:
            sources.append(build_source(device))
        except UnsupportedDevice as exc:
            log.error("%s; skipping it", exc)
    return sources
