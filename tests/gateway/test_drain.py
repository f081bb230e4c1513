"""Drain and ack logic against the in-memory uplink (unit level; real broker in test_uplink)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.drain import AckHandler, Drainer, DrainSettings
from gateway.outbox import AsyncOutbox, Caps
from gateway.uplink import MemoryUplink
from tests.gateway.gw_factories import alert, bp, until
from vitals import topics
from vitals.ids import new_msg_id
from vitals.wire import Ack, ReadingsBatch, decode, encode

GW = "gw-unit"
ACK_TOPIC = topics.topic(GW, topics.TopicKind.ACK)


@pytest.fixture
async def outbox(tmp_path: Path) -> AsyncIterator[AsyncOutbox]:
    box = AsyncOutbox(tmp_path / "o.db", Caps(resend_after_ms=300, lease_ms=10_000))
    yield box
    box.close()


def msg_ids_of(uplink: MemoryUplink) -> list[str]:
    out = []
    for _, payload, _ in uplink.published:
        out += [i.msg_id for i in decode(payload).items]  # type: ignore[union-attr]
    return out


async def test_publishes_alerts_first_and_deletes_only_on_ack(outbox: AsyncOutbox) -> None:
    uplink = MemoryUplink()
    readings = [bp(i) for i in range(5)]
    a = alert(readings[4])
    for r in readings:
        await outbox.put(r, [a] if r is readings[4] else [])
    drainer = Drainer(GW, outbox, uplink, DrainSettings(batch_max_items=2, max_messages_per_s=0))
    acks = AckHandler(GW, outbox, uplink)
    async with asyncio.TaskGroup() as tg:
        tasks = [tg.create_task(drainer.run()), tg.create_task(acks.run())]
        await until(lambda: drainer.published_rows == 6)
        assert uplink.topics()[0].endswith("/up/alerts")
        assert msg_ids_of(uplink)[0] == a.msg_id
        assert (await outbox.stats()).depth == 6  # PUBACK alone deletes nothing
        uplink.deliver(ACK_TOPIC, encode(Ack(msg_ids=(a.msg_id, readings[0].msg_id))))
        await until(lambda: acks.acked == 2)
        assert (await outbox.stats()).depth == 4
        for t in tasks:
            t.cancel()
    assert a.msg_id not in outbox.sync.msg_ids()


async def test_unacked_rows_are_resent_after_timeout(outbox: AsyncOutbox) -> None:
    uplink = MemoryUplink()
    r = bp(1)
    await outbox.put(r)
    drainer = Drainer(GW, outbox, uplink, DrainSettings(max_messages_per_s=0, idle_poll_s=0.05))
    async with asyncio.TaskGroup() as tg:
        task = tg.create_task(drainer.run())
        await until(lambda: len(uplink.published) >= 2)
        task.cancel()
    assert msg_ids_of(uplink)[:2] == [r.msg_id, r.msg_id]


async def test_failed_publish_is_retried_and_disconnect_pauses(outbox: AsyncOutbox) -> None:
    uplink = MemoryUplink(fail_publishes=2)
    readings = [bp(i) for i in range(3)]
    for r in readings:
        await outbox.put(r)
    drainer = Drainer(GW, outbox, uplink, DrainSettings(batch_max_items=1, window=1,
                                                         max_messages_per_s=0, idle_poll_s=0.05))
    async with asyncio.TaskGroup() as tg:
        task = tg.create_task(drainer.run())
        await until(lambda: drainer.published_rows == 3)
        uplink.set_connected(False)
        extra = bp(9)
        await outbox.put(extra)
        drainer.notify()
        await asyncio.sleep(0.2)
        assert extra.msg_id not in msg_ids_of(uplink)
        uplink.set_connected(True)
        await until(lambda: extra.msg_id in msg_ids_of(uplink))
        task.cancel()
    assert sorted(set(msg_ids_of(uplink))) == sorted(r.msg_id for r in [*readings, extra])


async def test_max_unacked_holds_new_rows_but_still_resends(outbox: AsyncOutbox) -> None:
    uplink = MemoryUplink()
    readings = [bp(i) for i in range(10)]
    for r in readings:
        await outbox.put(r)
    drainer = Drainer(GW, outbox, uplink, DrainSettings(
        batch_max_items=2, fetch_rows=2, window=2, max_unacked=4, max_messages_per_s=0,
        idle_poll_s=0.05))
    first_four = [r.msg_id for r in readings[:4]]
    async with asyncio.TaskGroup() as tg:
        task = tg.create_task(drainer.run())
        # resend_after is 300 ms: wait for the first four to go out at least twice
        await until(lambda: all(msg_ids_of(uplink).count(m) >= 2 for m in first_four))
        assert set(msg_ids_of(uplink)) == set(first_four)
        ack = encode(Ack(msg_ids=tuple(first_four)))
        await AckHandler(GW, outbox, uplink).handle(ACK_TOPIC, ack)
        drainer.notify()
        await until(lambda: readings[4].msg_id in msg_ids_of(uplink))
        task.cancel()


async def test_malformed_and_foreign_inbound_messages_are_kept_not_fatal(
    outbox: AsyncOutbox,
) -> None:
    uplink = MemoryUplink()
    acks = AckHandler(GW, outbox, uplink)
    await acks.handle(ACK_TOPIC, b"{not json")
    await acks.handle(ACK_TOPIC, encode(ReadingsBatch(gateway=GW, sent_at=bp(0).measured_at,
                                                      items=(bp(0),))))
    await acks.handle(topics.topic("gw-other", topics.TopicKind.ACK),
                      encode(Ack(msg_ids=(new_msg_id(),))))
    rejects = outbox.sync.rejects()
    assert [r[0] for r in rejects] == [ACK_TOPIC, ACK_TOPIC, "homerpm/v1/gw-other/ack"]
    assert "unexpected readings" in rejects[1][1]


async def test_an_alert_overtakes_a_reading_backlog(outbox: AsyncOutbox) -> None:
    uplink = MemoryUplink()
    await asyncio.to_thread(outbox.sync.put_many, [(bp(i), ()) for i in range(3000)])
    # 100 readings per message, 20 messages/s: the backlog takes ~1.5 s to drain
    drainer = Drainer(GW, outbox, uplink, DrainSettings(
        batch_max_items=100, fetch_rows=200, window=2, max_messages_per_s=20))
    async with asyncio.TaskGroup() as tg:
        task = tg.create_task(drainer.run())
        await until(lambda: len(uplink.published) >= 3)
        trigger = bp(5000, systolic=200)
        urgent = alert(trigger)
        await outbox.put(trigger, [urgent])
        stored_at = len(uplink.published)  # messages already out when the alert was stored
        drainer.notify()
        await until(lambda: urgent.msg_id in msg_ids_of(uplink))
        task.cancel()
    topics_sent = uplink.topics()
    alert_at = topics_sent.index(topics.topic(GW, topics.TopicKind.ALERTS))
    # It went out within a few messages of being stored (the rows already leased and the
    # publish window go first), not after the rest of the 30-message backlog.
    assert alert_at <= stored_at + 4
    assert alert_at < 25
    assert trigger.msg_id not in msg_ids_of(uplink)  # its reading waits its turn


async def test_unacked_rows_go_out_again_shortly_after_a_reconnect(tmp_path: Path) -> None:
    box = AsyncOutbox(tmp_path / "slow.db", Caps(resend_after_ms=600_000))  # timer: 10 min
    uplink = MemoryUplink()
    r, acked = bp(1), bp(2)
    await box.put(r)
    await box.put(acked)
    drainer = Drainer(GW, box, uplink, DrainSettings(
        max_messages_per_s=0, idle_poll_s=0.05, resend_after_connect_s=1.0))
    acks = AckHandler(GW, box, uplink)
    try:
        async with asyncio.TaskGroup() as tg:
            tasks = [tg.create_task(drainer.run()), tg.create_task(acks.run())]
            await until(lambda: drainer.published_rows == 2)
            uplink.deliver(ACK_TOPIC, encode(Ack(msg_ids=(acked.msg_id,))))
            await until(lambda: acks.acked == 1)
            await asyncio.sleep(1.5)  # past the resend after the first connect:
            assert msg_ids_of(uplink).count(r.msg_id) == 1  # published on it, not re-sent
            uplink.set_connected(False)
            uplink.set_connected(True)
            await until(lambda: msg_ids_of(uplink).count(r.msg_id) == 2)
            assert msg_ids_of(uplink).count(acked.msg_id) == 1  # acked rows are gone
            for t in tasks:
                t.cancel()
    finally:
        box.close()
