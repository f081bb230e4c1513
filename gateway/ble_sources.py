"""``[[devices]]`` → device sources, with their transports opened in the app's context.

* A real device (``address = ...``) becomes a ``BleDeviceSource`` on ONE shared
  ``BleakTransport`` (one scanner per adapter: several fight over BlueZ).
* A simulated device is either today's scenario cuff (``simulator = "scenario"``, BP only:
  :class:`gateway.sources.SimulatedFrames`) or a ``firmware_sim`` GATT model served
  in-process through ``MemoryTransport`` (``simulator = "gatt"``), so the very same
  session code (``device_drivers.ble``) that reads a real cuff runs in the demo.

The simulator package is imported by name only when a simulated GATT device is
configured (DESIGN.md: the gateway does not depend on firmware_sim). A spot-check GATT
device (cuff, meter, oximeter, scale) gets a new measurement every ``interval_s`` from a
small "patient" task that :class:`DeviceSet` owns; a streaming one (ECG, HR) streams.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import random
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gateway.config import DeviceConfig, GatewayConfig
from gateway.devices import DeviceSource
from gateway.sources import RecordStream, UnsupportedDevice, assignment, build_source
from vitals.readings import ReadingKind

if TYPE_CHECKING:
    from device_drivers.ble.capture import Who

log = logging.getLogger(__name__)

#: ReadingKind → firmware_sim.devices.catalog kind name.
CATALOG_KIND = {
    ReadingKind.BLOOD_PRESSURE: "bp", ReadingKind.GLUCOSE: "glucose", ReadingKind.ECG: "ecg",
    ReadingKind.HEART_RATE: "hr", ReadingKind.SPO2: "spo2", ReadingKind.BODY_WEIGHT: "scale",
}
_STREAMING = {ReadingKind.ECG, ReadingKind.HEART_RATE}


@dataclass
class DeviceSet:
    """The configured sources plus what must run beside them (sim patients)."""

    sources: list[DeviceSource] = field(default_factory=list)
    #: coroutines to run in the app's TaskGroup (simulated measurements)
    helpers: list[Any] = field(default_factory=list)
    #: device id → BLE address (real or simulated), for the status page / health
    addresses: dict[str, str] = field(default_factory=dict)


def _sim_address(n: int) -> str:
    return f"C0:FF:EE:5E:{n // 256:02X}:{n % 256:02X}"


def _who(device: DeviceConfig) -> Who:
    from device_drivers.ble.capture import Who

    a = assignment(device)
    return Who(a.patient, a.device, a.simulated)


async def _measure_every(model: Any, device: DeviceConfig, catalog: Any) -> None:
    """The simulated patient: one more stored measurement every ``interval_s``."""
    rng = random.Random(device.seed)
    taken = 0
    while device.count == 0 or taken < device.count:
        await asyncio.sleep(device.interval_s)
        summary = catalog.add_measurement(model, rng, datetime.now(), device.scenario)
        taken += 1
        log.debug("simulated %s: %s", device.id, summary)


def _patients(cfg: GatewayConfig, spot: list[Any], catalog: Any) -> list[Any]:
    """Who takes the spot-check measurements: one simulated home that also plays scripted
    scenarios on request (``[simulator] control_dir``), else a timer per device."""
    if cfg.simulator.control_dir is None:
        return [_measure_every(model, d, catalog) for d, model in spot]
    home = importlib.import_module("firmware_sim.home")
    devices = [home.HomeDevice(CATALOG_KIND[d.kind], model, d.interval_s, d.scenario, d.seed,
                               d.count) for d, model in spot]
    return [home.SimulatedHome(devices, cfg.simulator.control_dir).run()]


async def open_devices(cfg: GatewayConfig, stack: contextlib.AsyncExitStack) -> DeviceSet:
    """Build every source; transports and in-process devices close with ``stack``."""
    out = DeviceSet()
    cursors_path = cfg.bluetooth.cursors_path or Path(cfg.outbox.path).with_name("ble_cursors.db")
    real = [d for d in cfg.devices if not d.simulated]
    gatt = [d for d in cfg.devices if d.simulated and d.sim == "gatt"]
    cursors = None
    if real or gatt:  # the BLE stack (and numpy, for ECG frames) only when needed: RSS
        from device_drivers.ble.cursors import SqliteCursorStore
        from device_drivers.ble.source import BleDeviceSource

        cursors = SqliteCursorStore(cursors_path)
        stack.callback(cursors.close)
    if real:
        from device_drivers.ble.bleak_transport import BleakTransport  # bleak only when needed

        bleak = await stack.enter_async_context(BleakTransport(
            adapter=cfg.bluetooth.adapter, known_addresses=[d.address or "" for d in real]))
        for d in real:
            assert d.address is not None and d.id is not None and cursors is not None
            out.sources.append(BleDeviceSource(
                bleak, address=d.address, kind=d.kind, who=_who(d), cursors=cursors,
                device_id=d.id, ecg_segment_s=d.ecg_segment_s))
            out.addresses[d.id] = d.address.upper()
    if gatt:
        from device_drivers.ble.memory import MemoryTransport

        catalog = importlib.import_module("firmware_sim.devices.catalog")
        inprocess = importlib.import_module("firmware_sim.devices.inprocess")
        memory = await stack.enter_async_context(MemoryTransport())
        home: list[Any] = []  # spot-check (device, model) pairs the simulated patient measures on
        for n, d in enumerate(gatt, 1):
            assert d.id is not None and cursors is not None
            address = _sim_address(n)
            model = catalog.make_model(CATALOG_KIND[d.kind], records=0, seed=d.seed or n,
                                       address=address, scenario=d.scenario)
            dev = await stack.enter_async_context(inprocess.InProcessDevice(model, time_scale=1.0))
            memory.add(dev)
            out.sources.append(BleDeviceSource(
                memory, address=address, kind=d.kind, who=_who(d), cursors=cursors,
                device_id=d.id, ecg_segment_s=d.ecg_segment_s, cooldown_s=1.0))
            out.addresses[d.id] = address
            if d.kind not in _STREAMING:
                home.append((d, model))
        out.helpers += _patients(cfg, home, catalog)
    for d in cfg.devices:
        if d.simulated and d.sim == "records":
            out.sources.append(RecordStream(
                d, Path(cfg.outbox.path).with_name(f"records-{d.id}.cursor")))
        if d.simulated and d.sim == "scenario":
            try:
                out.sources.append(build_source(d))
            except UnsupportedDevice as exc:  # pragma: no cover - config validation prevents it
                log.error("%s; skipping it", exc)
    return out
