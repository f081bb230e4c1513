"""Heart-rate strap, pulse oximeter and scale models over the in-process transport."""

from __future__ import annotations

import datetime as dt

from device_drivers.ble.memory import MemoryTransport
from device_drivers.ble.session import collect
from device_drivers.codecs.heart_rate import SensorContact, decode_heart_rate
from device_drivers.codecs.plx import decode_plx_continuous, decode_plx_spot_check
from device_drivers.codecs.weight import decode_weight
from device_drivers.uuids import (
    HEART_RATE_MEASUREMENT,
    PLX_CONTINUOUS_MEASUREMENT,
    PLX_SPOT_CHECK_MEASUREMENT,
    WEIGHT_MEASUREMENT,
)
from firmware_sim.devices.gatt_model import DeviceModel
from firmware_sim.devices.hr_gatt import HeartRateStrap
from firmware_sim.devices.inprocess import InProcessDevice
from firmware_sim.devices.plx_gatt import PulseOximeter, spot_check
from firmware_sim.devices.scale_gatt import Scale, weighing

T0 = dt.datetime(2026, 7, 1, 7)


async def run(model: DeviceModel, chars: list[str], **kw):
    async with InProcessDevice(model) as dev, MemoryTransport([dev]) as transport:
        adv = await anext(transport.advertisements())
        async with transport.connect(adv) as conn:
            return await collect(conn, chars, **kw), conn


async def test_heart_rate_stream_with_rr_intervals() -> None:
    strap = HeartRateStrap(bpm=60, seed=1)
    got, _ = await run(strap, [HEART_RATE_MEASUREMENT], max_count=5)
    values = [decode_heart_rate(n.data) for n in got]
    assert [(v.heart_rate, v.rr_intervals) for v in values] == [
        (m.heart_rate, m.rr_intervals) for m in strap.sent[:5]
    ]
    assert all(v.sensor_contact is SensorContact.DETECTED and v.rr_intervals for v in values)
    assert all(50 <= v.heart_rate <= 70 for v in values)


async def test_oximeter_spot_checks_then_continuous() -> None:
    ox = PulseOximeter([spot_check(96, 71, T0), spot_check(94, 80, T0 + dt.timedelta(hours=1))])
    got, _ = await run(ox, [PLX_SPOT_CHECK_MEASUREMENT, PLX_CONTINUOUS_MEASUREMENT], max_count=4)
    spot, cont = PLX_SPOT_CHECK_MEASUREMENT, PLX_CONTINUOUS_MEASUREMENT
    spots = [decode_plx_spot_check(n.data) for n in got if n.char_uuid == spot]
    assert [s.spo2.value for s in spots] == [96, 94]  # type: ignore[union-attr]
    live = [decode_plx_continuous(n.data) for n in got if n.char_uuid == cont]
    assert live and live[0].spo2.value == 97  # type: ignore[union-attr]


async def test_scale_sends_stored_weights_and_disconnects() -> None:
    scale = Scale([weighing(81.35, T0), weighing(81.1, T0 + dt.timedelta(days=1))])
    got, conn = await run(scale, [WEIGHT_MEASUREMENT], quiet_timeout=5)
    assert [decode_weight(n.data).weight for n in got] == [81.35, 81.1]
    assert not conn.is_connected and not scale.advertising
