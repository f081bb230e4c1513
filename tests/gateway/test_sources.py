"""Device tasks: simulated cuff bytes → decoded readings; bad bytes → decode_error events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

from device_drivers.uuids import BLOOD_PRESSURE_MEASUREMENT, INTERMEDIATE_CUFF_PRESSURE
from gateway.config import DeviceConfig
from gateway.devices import DeviceTask, Frame
from gateway.sources import assignment, build_source, decode_blood_pressure
from vitals.ids import is_msg_id
from vitals.readings import BloodPressure
from vitals.wire import GatewayEvent

NOW = datetime(2026, 11, 25, 7, 30, tzinfo=UTC)
SIM = DeviceConfig(id="cuff-1", kind="blood_pressure", simulated=True, patient="p-9",
                   interval_s=0.001, count=5, seed=3, scenario="crisis")


class Frames:
    def __init__(self, frames: list[Frame]) -> None:
        self._frames = frames

    async def frames(self) -> AsyncIterator[Frame]:
        for f in self._frames:
            yield f


async def test_simulated_cuff_source_yields_marked_decoded_readings() -> None:
    got = [r async for r in build_source(SIM).readings()]
    assert len(got) == 5
    assert all(isinstance(r, BloodPressure) for r in got)
    bps = [r for r in got if isinstance(r, BloodPressure)]
    assert all(r.simulated and r.patient == "p-9" and is_msg_id(r.msg_id) for r in bps)
    assert len({r.msg_id for r in bps}) == 5
    assert all(r.systolic > 170 for r in bps)  # the crisis scenario
    assert all(r.device_time is not None and r.received_at is not None for r in bps)


async def test_bad_frame_becomes_event_and_the_next_frame_still_decodes() -> None:
    # 0x2A35 "mmHg, no options": 120/80/93 mmHg as SFLOAT (exponent 0)
    good = bytes.fromhex("00" "7800" "5000" "5d00")
    frames = [
        Frame(BLOOD_PRESSURE_MEASUREMENT, b"\x1e\x78", NOW),  # truncated
        Frame(INTERMEDIATE_CUFF_PRESSURE, good, NOW),  # not a result: skipped
        Frame(BLOOD_PRESSURE_MEASUREMENT, good, NOW),
    ]
    task = DeviceTask(assignment(SIM), Frames(frames), decode_blood_pressure)
    got = [r async for r in task.readings()]
    assert isinstance(got[0], GatewayEvent) and got[0].code == "decode_error"
    assert got[0].detail["payload_hex"] == "1e78" and got[0].simulated
    assert isinstance(got[1], BloodPressure) and (got[1].systolic, got[1].diastolic) == (120, 80)
    assert got[1].measured_at == NOW  # no device time stamp → capture time
    assert len(got) == 2 and task.decode_errors == 1
