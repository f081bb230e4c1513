"""Battery Level 0x2A19: read once per connection, optional, never costs a reading."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from device_drivers.ble.cursors import MemoryCursorStore
from device_drivers.ble.memory import MemoryTransport
from device_drivers.ble.session import BATTERY_LEVEL, BadPayload, read_battery_level
from device_drivers.ble.source import BleDeviceSource
from device_drivers.ble.transport import Matcher
from firmware_sim.devices.bp_gatt import GattBpCuff, bp_record
from firmware_sim.devices.gatt_model import ATT_READ_NOT_PERMITTED, AttError, Char
from firmware_sim.devices.inprocess import InProcessDevice
from tests.device_drivers.ble.test_source import who
from vitals.readings import BloodPressure, ReadingKind
from vitals.wire import GatewayEvent

T0 = dt.datetime(2026, 9, 1, 8)


def cuff_records() -> list:
    return [bp_record(118, 77, at=T0), bp_record(125, 82, at=T0 + dt.timedelta(hours=2))]


class NoBatteryCuff(GattBpCuff):
    def chars(self) -> tuple[Char, ...]:
        return tuple(c for c in super().chars() if c.uuid != BATTERY_LEVEL)


class FailingBatteryCuff(GattBpCuff):
    def read(self, uuid: str) -> bytes:
        if uuid == BATTERY_LEVEL:
            raise AttError(ATT_READ_NOT_PERMITTED, "battery read refused")
        return super().read(uuid)


class BadBatteryCuff(GattBpCuff):
    def read(self, uuid: str) -> bytes:
        return b"\xc8" if uuid == BATTERY_LEVEL else super().read(uuid)  # 200 %


async def test_session_reads_the_simulated_battery_level() -> None:
    cuff = GattBpCuff(cuff_records())
    cuff.battery_pct = 42
    async with InProcessDevice(cuff) as dev, MemoryTransport([dev]) as transport:
        adv = await anext(transport.advertisements(Matcher.of(addresses=[cuff.address])))
        async with transport.connect(adv) as conn:
            assert await read_battery_level(conn) == 42


async def source_items(cuff: GattBpCuff, n: int) -> tuple[BleDeviceSource, list]:
    """The first ``n`` items of a BP source over the cuff, and the source."""
    got: list = []
    async with InProcessDevice(cuff) as dev, MemoryTransport([dev]) as transport:
        source = BleDeviceSource(transport, address=cuff.address,
                                 kind=ReadingKind.BLOOD_PRESSURE, who=who(cuff),
                                 cursors=MemoryCursorStore(), cooldown_s=0)
        items = source.readings()
        try:
            async with asyncio.timeout(60):  # a budget for a loaded machine, not a timing test
                while len(got) < n:
                    got.append(await anext(items))
        finally:
            await items.aclose()
    return source, got


async def test_source_reports_the_battery_beside_its_readings() -> None:
    cuff = GattBpCuff(cuff_records(), send_all=True)
    cuff.battery_pct = 64
    source, got = await source_items(cuff, 2)
    assert [type(x) for x in got] == [BloodPressure, BloodPressure]
    assert source.battery_pct == 64


@pytest.mark.parametrize("model", [NoBatteryCuff, FailingBatteryCuff])
async def test_absent_or_unreadable_battery_costs_nothing(model: type[GattBpCuff]) -> None:
    source, got = await source_items(model(cuff_records(), send_all=True), 2)
    assert [r.systolic for r in got] == [118, 125]
    assert source.battery_pct is None


async def test_undecodable_battery_is_a_decode_error_event_and_readings_still_come() -> None:
    source, got = await source_items(BadBatteryCuff(cuff_records(), send_all=True), 3)
    event, *readings = got
    assert isinstance(event, GatewayEvent) and event.code == "decode_error"
    assert event.detail["characteristic"] == BATTERY_LEVEL and event.detail["payload_hex"] == "c8"
    assert [r.systolic for r in readings] == [118, 125]
    assert source.battery_pct is None


async def test_read_battery_level_keeps_a_bad_value() -> None:
    cuff = BadBatteryCuff(cuff_records())
    async with InProcessDevice(cuff) as dev, MemoryTransport([dev]) as transport:
        adv = await anext(transport.advertisements(Matcher.of(addresses=[cuff.address])))
        async with transport.connect(adv) as conn:
            got = await read_battery_level(conn)
    assert isinstance(got, BadPayload) and got.notification.data == b"\xc8"
