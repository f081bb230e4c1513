"""BP session against the GATT-exact cuff model over the in-process transport."""

from __future__ import annotations

import datetime as dt

from device_drivers.ble.bp import collect_bp
from device_drivers.ble.cursors import MemoryCursorStore
from device_drivers.ble.memory import MemoryTransport
from device_drivers.ble.transport import Matcher
from device_drivers.codecs.bp import encode_bp_measurement
from device_drivers.codecs.numbers import MderFloat
from firmware_sim.devices.bp_gatt import BP_SERVICE, GattBpCuff, bp_record
from firmware_sim.devices.inprocess import InProcessDevice

T0 = dt.datetime(2026, 3, 1, 8, 0, 0)


def records(n: int) -> list:
    return [bp_record(120 + i, 80 + i, 60 + i, at=T0 + dt.timedelta(hours=i)) for i in range(n)]


async def first_adv(transport: MemoryTransport):
    async for adv in transport.advertisements(Matcher.of(services=[BP_SERVICE])):
        return adv
    raise AssertionError("scanner ended")


async def test_burst_is_collected_until_the_cuff_disconnects() -> None:
    cuff = GattBpCuff(records(3))
    async with InProcessDevice(cuff) as dev, MemoryTransport([dev]) as transport:
        adv = await first_adv(transport)
        assert adv.address == cuff.address and BP_SERVICE in adv.service_uuids
        async with transport.connect(adv) as conn:
            burst = await collect_bp(conn, quiet_timeout=5)
    assert burst.disconnected_by_device
    assert [r.measurement.systolic.value for r in burst.records] == [120, 121, 122]
    assert [r.notification.data for r in burst.records] == [
        encode_bp_measurement(r) for r in records(3)
    ]
    assert len(burst.intermediate) == cuff.icp_steps
    assert burst.info.manufacturer == "HomeRPM" and burst.info.model == "SimCuff"
    assert not cuff.advertising


async def test_resent_records_are_deduplicated_after_commit_only() -> None:
    cuff = GattBpCuff(records(2), send_all=True)
    store = MemoryCursorStore()
    async with InProcessDevice(cuff) as dev, MemoryTransport([dev]) as transport:
        async with transport.connect(await first_adv(transport)) as conn:
            first = await collect_bp(conn, store=store, quiet_timeout=5)
        assert len(first.records) == 2
        # Not committed (e.g. the outbox write failed): the same records come back.
        cuff.measure(bp_record(140, 90, 70, at=T0 + dt.timedelta(days=1)))
        async with transport.connect(await first_adv(transport)) as conn:
            second = await collect_bp(conn, store=store, quiet_timeout=5)
        assert len(second.records) == 3 and second.duplicates == 0
        await second.commit()
        cuff.measure(bp_record(150, 95, 75, at=T0 + dt.timedelta(days=2)))
        async with transport.connect(await first_adv(transport)) as conn:
            third = await collect_bp(conn, store=store, quiet_timeout=5)
    assert third.duplicates == 3
    assert [r.measurement.systolic.value for r in third.records] == [150]


async def test_beurer_bm85_bytes_decode_with_its_quirk_profile() -> None:
    cuff = GattBpCuff.beurer_bm85([bp_record(106, 71, 63, at=T0, user_id=0, status=0)])
    async with (
        InProcessDevice(cuff) as dev,
        MemoryTransport([dev]) as transport,
        transport.connect(await first_adv(transport)) as conn,
    ):
        burst = await collect_bp(conn, quiet_timeout=5)
    (record,) = burst.records
    assert record.notification.data[0] == 0x16  # bit 3 clear although a user id follows
    assert record.notification.data[-5:-3] == b"\x00\x3f"  # pulse 63, big-endian
    assert record.measurement.pulse_rate == MderFloat(63, 0)
    assert burst.info.quirks.name == "beurer-bm85"


async def test_undecodable_payload_is_kept_and_the_rest_still_arrives() -> None:
    cuff = GattBpCuff(records(2))
    real = cuff.subscribe

    def broken(uuid: str, enabled: bool):
        actions = real(uuid, enabled)
        if actions:
            from firmware_sim.devices.bp_gatt import BPM
            from firmware_sim.devices.gatt_model import Notify
            actions.insert(len(actions) - 3, Notify(BPM, b"\x1e\x8a"))
        return actions

    cuff.subscribe = broken  # type: ignore[method-assign]
    async with (
        InProcessDevice(cuff) as dev,
        MemoryTransport([dev]) as transport,
        transport.connect(await first_adv(transport)) as conn,
    ):
        burst = await collect_bp(conn, quiet_timeout=5)
    assert len(burst.records) == 2
    (bad,) = burst.bad
    assert bad.notification.data == b"\x1e\x8a" and "truncated" in bad.error.reason
