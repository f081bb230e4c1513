"""The simulated home: calm measurements, scripted scenarios played on request onto real
GATT device models, read back as the devices' own bytes through the real decoders."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from device_drivers.codecs.bp import decode_bp_measurement
from device_drivers.codecs.glucose import concentration_display, decode_glucose_measurement
from device_drivers.uuids import BLOOD_PRESSURE_MEASUREMENT as BPM
from device_drivers.uuids import GLUCOSE_MEASUREMENT
from device_drivers.uuids import RECORD_ACCESS_CONTROL_POINT as RACP
from firmware_sim.devices.bp_gatt import GattBpCuff
from firmware_sim.devices.gatt_model import Notify
from firmware_sim.devices.glucose_gatt import GlucoseMeter
from firmware_sim.home import HomeDevice, SimulatedHome
from firmware_sim.sim_control import ControlDir, Status

SPEED = 500.0  # scenario time compressed for the test; the demo plays in real time


def cuff_values(cuff: GattBpCuff) -> list[tuple[float, float]]:
    """What the cuff sends when the gateway subscribes: decoded 0x2A35 indications."""
    out = []
    for action in cuff.subscribe(BPM, True):
        if isinstance(action, Notify) and action.char == BPM:
            m = decode_bp_measurement(action.data)
            out.append((m.systolic.value, m.diastolic.value))
    return out


def meter_values(meter: GlucoseMeter) -> list[float]:
    """What the meter reports for 'all records' over RACP, decoded, in mg/dL."""
    meter.subscribe(RACP, True)
    meter.subscribe(GLUCOSE_MEASUREMENT, True)
    notes = [a for a in meter.write(RACP, bytes.fromhex("0101")) if isinstance(a, Notify)]
    out = []
    for n in notes:
        if n.char == GLUCOSE_MEASUREMENT:
            value = concentration_display(decode_glucose_measurement(n.data))
            assert value is not None
            out.append(float(value))
    return out


async def until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not condition():  # noqa: ASYNC110 - polling a plain model, no event to wait on
            await asyncio.sleep(0.01)


async def wait_status(control: ControlDir, request_id: str, state: str) -> Status:
    async with asyncio.timeout(20):
        while True:
            status = control.read_status(request_id)
            if status is not None and status.state == state:
                return status
            await asyncio.sleep(0.02)


@pytest.fixture
async def home(tmp_path: Path) -> AsyncIterator[tuple[SimulatedHome, ControlDir]]:
    devices = [HomeDevice("bp", GattBpCuff(), interval_s=3600.0),
               HomeDevice("glucose", GlucoseMeter(), interval_s=3600.0)]
    sim = SimulatedHome(devices, tmp_path / "sim", poll_s=0.02, first_after_s=3600.0,
                        speed=SPEED)
    task = asyncio.create_task(sim.run())
    yield sim, ControlDir(tmp_path / "sim")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_hypoglycaemia_plays_its_values_on_the_meter(
    home: tuple[SimulatedHome, ControlDir],
) -> None:
    sim, control = home
    request = control.submit("hypoglycaemia")
    playing = await wait_status(control, request.id, "playing")
    assert (playing.readings, playing.last_at_s) == (3, 40.0)
    await wait_status(control, request.id, "done")
    assert meter_values(sim.devices["glucose"].model) == [66, 58, 49]
    assert cuff_values(sim.devices["bp"].model) == []  # nothing else was measured


async def test_hypertensive_crisis_plays_on_the_cuff(
    home: tuple[SimulatedHome, ControlDir],
) -> None:
    sim, control = home
    request = control.submit("hypertensive-crisis")
    await wait_status(control, request.id, "playing")
    await until(lambda: len(sim.devices["bp"].model.records) >= 2)
    assert cuff_values(sim.devices["bp"].model) == [(186, 118), (192, 124)]


async def test_bad_requests_are_refused_and_the_home_plays_on(tmp_path: Path) -> None:
    meter_only = SimulatedHome([HomeDevice("glucose", GlucoseMeter(), 3600.0)],
                               tmp_path / "sim", poll_s=0.02, first_after_s=3600.0, speed=SPEED)
    control = ControlDir(tmp_path / "sim")
    task = asyncio.create_task(meter_only.run())
    try:
        unknown = control.submit("no-such-scenario")
        crisis = control.submit("hypertensive-crisis")
        good = control.submit("hypoglycaemia")
        assert "unknown scenario" in (await wait_status(control, unknown.id, "rejected")).reason
        refused = await wait_status(control, crisis.id, "rejected")
        assert refused.reason == "this simulated home has no bp device"
        await wait_status(control, good.id, "done")
        assert meter_values(meter_only.devices["glucose"].model) == [66, 58, 49]
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_a_new_request_replaces_the_one_playing(
    home: tuple[SimulatedHome, ControlDir],
) -> None:
    sim, control = home
    first = control.submit("hypoglycaemia")
    await wait_status(control, first.id, "playing")
    second = control.submit("normal-day")
    replaced = await wait_status(control, first.id, "replaced")
    assert second.id in replaced.reason
    await wait_status(control, second.id, "done")
    values = meter_values(sim.devices["glucose"].model)
    assert values[-2:] == [104, 112]  # normal-day's meter readings came after
    assert 49 not in values  # the hypo never reached its urgent reading


async def test_calm_measurements_pause_while_a_scenario_plays(tmp_path: Path) -> None:
    meter = GlucoseMeter()
    sim = SimulatedHome([HomeDevice("glucose", meter, interval_s=0.02, seed=3),
                         HomeDevice("bp", GattBpCuff(), interval_s=3600.0)],
                        tmp_path / "sim", poll_s=0.02, first_after_s=0.0, speed=100.0)
    control = ControlDir(tmp_path / "sim")
    task = asyncio.create_task(sim.run())
    try:
        await until(lambda: len(meter.records) >= 3)  # calm readings flow
        request = control.submit("normal-day")  # 1.2 s at this speed; meter at 0.15, 0.75 s
        await wait_status(control, request.id, "playing")
        before = len(meter.records)
        await wait_status(control, request.id, "done")
        during = meter_values(meter)[before:]
        assert 112 in during
        scripted = during[:during.index(112) + 1]
        # At most the two scripted readings (one may precede our look at "playing"), and no
        # calm one among ~60 calm ticks of the meter while the scenario played.
        assert len(scripted) <= 2 and set(scripted) <= {104, 112}
        # calm readings resume after the scenario
        await until(lambda: len(meter_values(meter)) > before + len(scripted))
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
