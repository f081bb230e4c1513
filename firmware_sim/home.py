"""A simulated home: calm measurements on a schedule, scripted scenarios on request.

Runs inside the gateway process beside its in-process GATT device models (the gateway starts
it when ``[simulator] control_dir`` is set, as ``homerpm demo`` does). The "patient" stores a
measurement in a device model exactly as a person pressing the cuff's button would; the
gateway's BLE session code then reads it over the in-memory transport, so every value reaches
the pipeline as the device's own bytes, decoded by the real drivers, marked simulated by the
gateway's device assignment.

``homerpm sim scenario NAME`` asks for a live scenario (``firmware_sim/scenarios/*.toml``
with ``live = true``) through :mod:`firmware_sim.sim_control`. While a scenario plays, the
calm schedule pauses (a normal reading between a severe one and its re-measurement would be
a different story than the one scripted); it resumes when the scenario's ``duration`` is over.
A new request replaces the one playing. Only the timeline's offsets and values are used: the
readings belong to whichever patient the home's devices are assigned to.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from firmware_sim.devices import catalog
from firmware_sim.devices.bp_gatt import bp_record
from firmware_sim.scenario import Scenario, ScenarioError, live_scenarios
from firmware_sim.sim_control import ControlDir, Request, Status
from vitals.readings import BloodPressure, Glucose, ReadingBase

log = logging.getLogger(__name__)

#: reading type → the catalog kind of the device that measures it
_DEVICE_FOR: Mapping[type[ReadingBase], str] = {BloodPressure: "bp", Glucose: "glucose"}


@dataclass(frozen=True)
class HomeDevice:
    kind: str  # catalog kind: "bp", "glucose", ...
    model: Any  # a firmware_sim.devices GATT model (spot-check device)
    interval_s: float  # calm schedule
    calm: str = "normal"  # bp_cuff scenario for calm blood pressure
    seed: int | None = None
    count: int = 0  # calm measurements, 0 = forever


def _device_clock() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)  # naive local wall clock, like a cuff


def _missing_devices(scenario: Scenario, kinds: set[str]) -> list[str]:
    needed = {_DEVICE_FOR.get(type(r), str(getattr(r, "kind", type(r).__name__)))
              for r in scenario.readings}
    return sorted(needed - kinds)


class SimulatedHome:
    def __init__(self, devices: list[HomeDevice], control_dir: Path, poll_s: float = 0.25,
                 first_after_s: float = 2.0, speed: float = 1.0) -> None:
        # speed > 1 compresses scenario time (tests only: the rules' windows are real time).
        self.devices = {d.kind: d for d in devices}
        self.control = ControlDir(control_dir)
        self.poll_s = poll_s
        self.speed = speed
        self.first_after_s = first_after_s
        self._playing: asyncio.Task[None] | None = None
        self._playing_id = ""

    async def run(self) -> None:
        self.control.requests.mkdir(parents=True, exist_ok=True)  # "a home listens here"
        async with asyncio.TaskGroup() as tg:
            for n, device in enumerate(self.devices.values()):
                tg.create_task(self._calm(device, self.first_after_s * (n + 1)))
            await self._watch(tg)

    # Calm ------------------------------------------------------------------------------
    async def _calm(self, device: HomeDevice, first_after_s: float) -> None:
        rng = random.Random(device.seed)
        await asyncio.sleep(first_after_s)
        taken = 0
        while device.count == 0 or taken < device.count:
            if self._playing is None or self._playing.done():
                summary = catalog.add_measurement(device.model, rng, _device_clock(),
                                                  device.calm)
                log.debug("simulated home, calm: %s", summary)
                taken += 1
            await asyncio.sleep(device.interval_s)

    # Scenarios -------------------------------------------------------------------------
    async def _watch(self, tg: asyncio.TaskGroup) -> None:
        while True:
            request = await asyncio.to_thread(self.control.claim_next)
            if request is None:
                await asyncio.sleep(self.poll_s)
                continue
            scenario = self._accept(request)
            if scenario is None:
                continue
            if self._playing is not None and not self._playing.done():
                self._playing.cancel()
                self.control.report(Status(self._playing_id, "", "replaced",
                                           f"replaced by {request.scenario} ({request.id})"))
            self._playing_id = request.id
            self._playing = tg.create_task(self._play(request, scenario))

    def _accept(self, request: Request) -> Scenario | None:
        try:
            scenario = live_scenarios().get(request.scenario)
        except (ScenarioError, OSError) as exc:
            reason = f"scenario files unreadable: {exc}"
        else:
            if scenario is None:
                reason = f"unknown scenario {request.scenario!r}"
            elif missing := _missing_devices(scenario, set(self.devices)):
                reason = f"this simulated home has no {', '.join(missing)} device"
            else:
                return scenario
        log.warning("simulated home: request %s rejected: %s", request.id, reason)
        self.control.report(Status(request.id, request.scenario, "rejected", reason))
        return None

    async def _play(self, request: Request, scenario: Scenario) -> None:
        offsets = [(Scenario.arrival(r) - scenario.start).total_seconds()
                   for r in scenario.readings]
        self.control.report(Status(request.id, scenario.name, "playing",
                                   readings=len(offsets), last_at_s=max(offsets, default=0)))
        log.info("simulated home: playing %s (%d readings)", scenario.name, len(offsets))
        t0 = time.monotonic()
        for offset, reading in zip(offsets, scenario.readings, strict=True):
            await asyncio.sleep(max(0.0, t0 + offset / self.speed - time.monotonic()))
            try:
                self._measure(reading)
            except Exception as exc:  # a simulator bug must not stop the gateway it runs in
                log.exception("simulated home: %s failed", scenario.name)
                self.control.report(Status(request.id, scenario.name, "rejected", repr(exc)))
                return
        # The scenario owns the home until its duration is over, then calm readings resume.
        await asyncio.sleep(max(0.0, t0 + scenario.duration_s / self.speed - time.monotonic()))
        self.control.report(Status(request.id, scenario.name, "done", readings=len(offsets),
                                   last_at_s=max(offsets, default=0)))

    def _measure(self, reading: ReadingBase) -> None:
        """The patient takes this measurement now, on the device that measures it."""
        at = _device_clock()
        if isinstance(reading, BloodPressure):
            pulse = None if reading.pulse is None else round(reading.pulse)
            record = bp_record(round(reading.systolic), round(reading.diastolic), pulse, at=at)
            self.devices["bp"].model.measure(record)
            log.info("simulated home: BP %s/%s", record.systolic, record.diastolic)
        elif isinstance(reading, Glucose):
            self.devices["glucose"].model.add(reading.mg_dl, at=at)
            log.info("simulated home: glucose %.0f mg/dL", reading.mg_dl)
