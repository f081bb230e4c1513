"""Turn the ``[[devices]]`` config into running device sources.

Decoding uses the shared GATT codecs (``device_drivers``). Simulated devices come from
``firmware_sim``, loaded by module name only when a device is configured as simulated:
the gateway does not depend on the simulator package (DESIGN.md import rules), a
simulated cuff is just another :class:`~gateway.devices.FrameSource` producing the same
bytes a real one would. Real BLE devices need the bleak transport, which is not built yet.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from device_drivers.codecs.bp import decode_bp_measurement
from device_drivers.readings import bp_to_reading
from device_drivers.uuids import BLOOD_PRESSURE_MEASUREMENT
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
