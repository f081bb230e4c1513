"""Device task loop: reconnect per advertisement, back off on failures."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from device_drivers.ble.bp import collect_bp
from device_drivers.ble.kinds import classify, classify_services
from device_drivers.ble.memory import MemoryTransport
from device_drivers.ble.transport import Advertisement, ConnectFailed, GattError, OutOfSlots
from device_drivers.ble.watch import sessions
from device_drivers.uuids import PMD_SERVICE, normalize_uuid
from firmware_sim.devices.bp_gatt import GattBpCuff, bp_record
from firmware_sim.devices.glucose_gatt import GlucoseMeter
from firmware_sim.devices.inprocess import InProcessDevice
from vitals.readings import ReadingKind

T0 = dt.datetime(2026, 4, 1, 9)


async def test_each_measurement_becomes_one_session_and_failures_are_retried() -> None:
    cuff = GattBpCuff([bp_record(120, 80, at=T0)])
    async with InProcessDevice(cuff) as dev, MemoryTransport([dev]) as transport:
        abort = ConnectionError("le-connection-abort-by-local")
        transport.faults.fail_next_connects(cuff.address, abort)
        bursts = []
        loop = sessions(transport, cuff.address, lambda c: collect_bp(c, quiet_timeout=2),
                        cooldown_s=0, retry_s=0.01)
        async with asyncio.timeout(60):  # a budget for a loaded CI machine, not a timing test
            async for burst in loop:
                bursts.append(burst)
                if len(bursts) == 1:
                    cuff.measure(bp_record(130, 85, at=T0 + dt.timedelta(hours=1)))
                else:
                    break
    assert [[r.measurement.systolic.value for r in b.records] for b in bursts] == [[120], [130]]
    assert transport.faults.connect_attempts[cuff.address] == 3  # 1 failed + 2 sessions


async def test_a_failed_connect_surfaces_as_a_typed_error() -> None:
    cuff = GattBpCuff([bp_record(120, 80, at=T0)])
    async with InProcessDevice(cuff) as dev, MemoryTransport([dev]) as transport:
        transport.faults.fail_next_connects(cuff.address, TimeoutError("timeout"))
        adv = await anext(transport.advertisements())
        try:
            async with transport.connect(adv):
                raise AssertionError("connected despite the injected failure")
        except ConnectFailed as exc:
            assert exc.address == cuff.address and "timeout" in exc.reason


def test_classification_by_advertised_services() -> None:
    def adv(*services: str, name: str | None = None) -> Advertisement:
        return Advertisement("AA", name, -50, tuple(normalize_uuid(s) for s in services))

    assert classify(adv("1810")) is ReadingKind.BLOOD_PRESSURE
    assert classify(adv("1808", "180a")) is ReadingKind.GLUCOSE
    assert classify(adv("180d", PMD_SERVICE)) is ReadingKind.ECG
    assert classify(adv("180d")) is ReadingKind.HEART_RATE
    assert classify(adv("180d", name="Polar H10 A1B2C3D4")) is ReadingKind.ECG
    assert classify(adv("1822")) is ReadingKind.SPO2
    assert classify(adv("181d")) is ReadingKind.BODY_WEIGHT
    assert classify_services(["180f"]) is None


async def test_slots_limit_concurrent_connections() -> None:
    cuff, meter = GattBpCuff([bp_record(120, 80, at=T0)]), GlucoseMeter()
    async with (
        InProcessDevice(cuff) as d1,
        InProcessDevice(meter) as d2,
        MemoryTransport([d1, d2], slots=1, slot_timeout=0.2) as transport,
    ):
        ads = {a.address: a async for a in _first_n(transport, 2)}
        async with transport.connect(ads[cuff.address]):
            with pytest.raises(OutOfSlots):
                async with transport.connect(ads[meter.address]):
                    pass
        async with transport.connect(ads[meter.address]) as conn:  # slot free again
            assert conn.is_connected


async def test_missing_required_characteristic_is_a_gatt_error() -> None:
    cuff = GattBpCuff([bp_record(120, 80, at=T0)])
    async with InProcessDevice(cuff) as dev, MemoryTransport([dev]) as transport:
        adv = await anext(transport.advertisements())
        with pytest.raises(GattError) as info:
            async with transport.connect(adv, required=["2a52"]):
                pass
    assert "2a52" in info.value.reason


async def _first_n(transport: MemoryTransport, n: int):
    seen: set[str] = set()
    async for adv in transport.advertisements():
        if adv.address not in seen:
            seen.add(adv.address)
            yield adv
        if len(seen) == n:
            return
