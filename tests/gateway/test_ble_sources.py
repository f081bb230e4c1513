"""``[[devices]]`` → device sources: simulated GATT models run the real BLE session code
through the in-memory transport inside the gateway; the records simulator resumes."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from gateway.ble_sources import open_devices
from gateway.config import GatewayConfig
from gateway.devices import DeviceSource
from vitals.readings import EcgStrip, Glucose, Reading


def cfg(tmp_path: Path, devices: list[dict[str, object]]) -> GatewayConfig:
    return GatewayConfig(gateway_id="gw-ble", outbox={"path": tmp_path / "o.db"},
                         devices=devices)


async def collect(source: DeviceSource, n: int, within: float) -> list[Reading]:
    got: list[Reading] = []
    async with asyncio.timeout(within):
        async for item in source.readings():
            if not hasattr(item, "code"):
                got.append(item)  # type: ignore[arg-type]
            if len(got) >= n:
                break
    return got


async def test_gatt_meter_and_ecg_strap_through_memory_transport(tmp_path: Path) -> None:
    config = cfg(tmp_path, [
        {"id": "meter", "kind": "glucose", "simulated": True, "patient": "p-1",
         "interval_s": 0.2, "seed": 1},
        {"id": "strap", "kind": "ecg", "simulated": True, "patient": "p-1",
         "ecg_segment_s": 5},
    ])
    async with contextlib.AsyncExitStack() as stack:
        devices = await open_devices(config, stack)
        assert [s.device_id for s in devices.sources] == ["meter", "strap"]
        async with asyncio.TaskGroup() as tg:
            helpers = [tg.create_task(h) for h in devices.helpers]
            meter, strip = await asyncio.gather(collect(devices.sources[0], 2, 30),
                                                collect(devices.sources[1], 1, 30))
            for h in helpers:
                h.cancel()
    assert all(isinstance(r, Glucose) and r.patient == "p-1" and r.simulated for r in meter)
    assert isinstance(strip[0], EcgStrip) and strip[0].simulated
    assert 4.5 <= len(strip[0].samples_uv) / strip[0].fs_hz <= 5.5
    assert strip[0].fs_hz == 130


async def test_records_simulator_resumes_from_its_cursor(tmp_path: Path) -> None:
    config = cfg(tmp_path, [{"id": "cuff", "kind": "blood_pressure", "simulated": True,
                             "simulator": "records", "patient": "p-2", "interval_s": 0,
                             "count": 120, "seed": 5}])
    async with contextlib.AsyncExitStack() as stack:
        first = await collect((await open_devices(config, stack)).sources[0], 60, 10)
    async with contextlib.AsyncExitStack() as stack:
        rest = await collect((await open_devices(config, stack)).sources[0], 200, 10)
    # The cursor was saved after record 50 (every 50): records 50..119 come again/next,
    # with the same msg_ids as before for the ones delivered twice.
    assert len(rest) == 70
    assert [r.msg_id for r in first[50:]] == [r.msg_id for r in rest[:10]]


async def test_a_simulated_home_plays_a_requested_scenario_through_the_ble_session(
    tmp_path: Path,
) -> None:
    from firmware_sim.sim_control import ControlDir

    config = GatewayConfig(
        gateway_id="gw-home", outbox={"path": tmp_path / "o.db"},
        simulator={"control_dir": tmp_path / "sim"},
        devices=[{"id": "cuff", "kind": "blood_pressure", "simulated": True, "simulator": "gatt",
                  "patient": "p-3", "interval_s": 3600},
                 {"id": "meter", "kind": "glucose", "simulated": True, "patient": "p-3",
                  "interval_s": 3600}])
    async with contextlib.AsyncExitStack() as stack:
        devices = await open_devices(config, stack)
        assert len(devices.helpers) == 1  # one home measures on both devices
        async with asyncio.TaskGroup() as tg:
            home = tg.create_task(devices.helpers[0])
            request = await asyncio.to_thread(ControlDir(tmp_path / "sim").submit,
                                              "hypoglycaemia")
            got: list[Glucose] = []
            async with asyncio.timeout(60):
                async for item in devices.sources[1].readings():
                    if isinstance(item, Glucose):
                        got.append(item)
                        if item.mg_dl == 66:  # the scenario's first fingerstick (calm: 80-180)
                            break
            home.cancel()
    status = ControlDir(tmp_path / "sim").read_status(request.id)
    assert status is not None and status.state == "playing"
    assert got[-1].simulated and got[-1].patient == "p-3"
    assert got[-1].sample_type == "capillary_plasma"  # read from the meter's own record
