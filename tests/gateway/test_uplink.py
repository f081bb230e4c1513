"""The uplink and drain against a REAL mosquitto, with a fake cloud that acks."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from firmware_sim.services import Mosquitto
from gateway.app import cancel_all
from gateway.drain import AckHandler, Drainer, DrainSettings
from gateway.outbox import AsyncOutbox, Caps, Outbox
from gateway.status import StatusReporter
from gateway.uplink import MqttSettings, MqttUplink
from tests.gateway.fake_cloud import FakeCloud, running
from tests.gateway.gw_factories import alert, bp, until
from tests.gateway.gw_live import TcpCut
from vitals import topics
from vitals.status import GatewayState

pytestmark = pytest.mark.services
GW = "gw-it"


@dataclass
class Gateway:
    outbox: AsyncOutbox
    uplink: MqttUplink
    drainer: Drainer
    acks: AckHandler


@contextlib.asynccontextmanager
async def gateway(tmp_path: Path, broker: Mosquitto, resend_ms: int = 60_000,
                  rate: float = 0, preload: Callable[[Outbox], None] = lambda box: None,
                  port: int | None = None, username: str | None = None,
                  password: str | None = None,
                  resend_after_connect_s: float = 0.5) -> AsyncIterator[Gateway]:
    outbox = AsyncOutbox(tmp_path / "outbox.db", Caps(resend_after_ms=resend_ms))
    preload(outbox.sync)  # a backlog from before this start
    reporter = StatusReporter(GW, topics.topic(GW, topics.TopicKind.STATUS), simulated=True)
    settings = MqttSettings(
        host="127.0.0.1", port=port or broker.port, client_id=GW,
        username=username, password=password,
        status_topic=reporter.topic,
        subscriptions=(topics.topic(GW, topics.TopicKind.ACK),
                       topics.topic(GW, topics.TopicKind.CONFIG)),
        reconnect_min_s=0.1, reconnect_max_s=0.5, will_delay_s=0,
    )
    uplink = MqttUplink(settings, reporter.online, reporter.offline)
    drainer = Drainer(GW, outbox, uplink, DrainSettings(
        max_messages_per_s=rate, idle_poll_s=0.2, resend_after_connect_s=resend_after_connect_s))
    acks = AckHandler(GW, outbox, uplink)
    try:
        async with asyncio.TaskGroup() as tg:
            tasks = [tg.create_task(uplink.run()), tg.create_task(drainer.run()),
                     tg.create_task(acks.run())]
            yield Gateway(outbox, uplink, drainer, acks)
            await uplink.go_offline()
            await cancel_all(tasks)
    finally:
        outbox.close()


async def depth(gw: Gateway) -> int:
    return (await gw.outbox.stats()).depth


async def test_rows_are_deleted_only_after_the_cloud_ack(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    cloud = FakeCloud(mosquitto.port, acking=False)
    readings = [bp(i) for i in range(50)]
    a = alert(readings[10])

    def preload(box: Outbox) -> None:
        for r in readings:
            box.put(r, [a] if r is readings[10] else [])

    async with running(cloud), gateway(tmp_path, mosquitto, preload=preload) as gw:
        await until(lambda: len(cloud.distinct()) == 51)
        assert cloud.order[0] == a.msg_id  # the alert went before the readings
        await asyncio.sleep(0.3)
        assert await depth(gw) == 51  # PUBACKed, not acked: still here
        cloud.acking = True
        late = bp(99)
        await gw.outbox.put(late)
        gw.drainer.notify()
        await until(lambda: late.msg_id in cloud.seen)
        await until(lambda: gw.acks.acked == 1)
        assert await depth(gw) == 51
        # the others arrive again after the resend timeout is forced and are acked then
        await asyncio.to_thread(gw.outbox.sync._db.execute,
                                "UPDATE outbox SET next_attempt_ms = 0")
        gw.drainer.notify()
        await until(lambda: gw.acks.acked == 52)
        assert await depth(gw) == 0
    assert any(s.status.state is GatewayState.ONLINE for s in cloud.status)


async def test_unacked_rows_are_resent_after_the_timeout(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    cloud = FakeCloud(mosquitto.port, acking=False)
    r = bp(1)
    async with running(cloud), gateway(tmp_path, mosquitto, resend_ms=500) as gw:
        await gw.outbox.put(r)
        gw.drainer.notify()
        await until(lambda: cloud.seen[r.msg_id] >= 2)
        cloud.acking = True
        await until(lambda: gw.acks.acked == 1, within=10)
        assert await depth(gw) == 0


async def test_broker_restart_mid_stream_loses_nothing(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    cloud = FakeCloud(mosquitto.port)
    readings = [bp(i) for i in range(3000)]

    def preload(box: Outbox) -> None:
        box.put_many([(r, ()) for r in readings])

    async with running(cloud), gateway(tmp_path, mosquitto, resend_ms=2000, rate=40,
                                       preload=preload) as gw:
        await until(lambda: len(cloud.distinct()) > 500)
        assert len(cloud.distinct()) < 3000  # really mid-stream
        await asyncio.to_thread(mosquitto.restart)
        await until(lambda: len(cloud.distinct()) == 3000, within=40)
        await until(lambda: gw.uplink.connects >= 2)
        await until(lambda: gw.acks.acked >= 3000, within=20)
        assert await depth(gw) == 0
    assert cloud.distinct() == {r.msg_id for r in readings}


async def test_unacked_rows_are_resent_promptly_after_a_reconnect(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    """After a broker restart mosquitto 2.0.11 has no shared subscription until the ingest
    worker re-subscribes: batches published meanwhile are PUBACKed and dropped, and only a
    resend repairs them. The resend timer is 10 minutes here, so the rows can only arrive
    in time through the resend after the gateway's next (re)connect."""
    readings = [bp(i) for i in range(20)]
    ids = {r.msg_id for r in readings}
    async with TcpCut(mosquitto.port) as link, gateway(
            tmp_path, mosquitto, resend_ms=600_000, port=link.port) as gw:
        async with running(FakeCloud(mosquitto.port, share="ingest")):
            await until(lambda: gw.uplink.connected)
        await asyncio.to_thread(mosquitto.restart)  # the worker is still away
        await until(lambda: gw.uplink.connects >= 2, within=15)
        await asyncio.sleep(1.0)  # past the resend after that connect
        for r in readings:
            await gw.outbox.put(r)
        gw.drainer.notify()
        await until(lambda: gw.drainer.published_rows >= 20)  # PUBACKed by the broker ...
        cloud = FakeCloud(mosquitto.port, share="ingest")
        async with running(cloud):
            await asyncio.sleep(1.5)
            assert not ids & cloud.distinct()  # ... and dropped: nothing was queued
            assert await depth(gw) == 20
            link.cut()  # the home's link drops and comes back
            await until(lambda: not gw.uplink.connected, within=10)
            await link.restore()
            await until(lambda: gw.uplink.connects >= 3, within=10)
            await until(lambda: ids <= cloud.distinct(), within=10)
            await until(lambda: gw.acks.acked == 20, within=10)
            assert await depth(gw) == 0


# The per-gateway ACL the cloud provisions (cloud_api/broker/mosquitto_auth.py): a gateway
# may write only its own up/ and status topics and read its own ack and down/ topics.
GATEWAY_ACL = """pattern write homerpm/v1/%u/up/#
pattern write homerpm/v1/%u/status
pattern read homerpm/v1/%u/ack
pattern read homerpm/v1/%u/down/#
"""


async def test_per_gateway_credentials_and_acl(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path / "auth-broker", passwords={GW: "s3cret"}, acl=GATEWAY_ACL)
    broker.start()
    try:
        cloud = FakeCloud(broker.port)  # the cloud side uses the anonymous loopback listener
        r = bp(1)
        async with running(cloud), gateway(tmp_path, broker, port=broker.auth_port,
                                           username=GW, password="s3cret") as gw:
            await gw.outbox.put(r)
            gw.drainer.notify()
            await until(lambda: gw.acks.acked == 1)  # up/readings allowed, ack readable
            assert await depth(gw) == 0
        async with gateway(tmp_path / "wrong", broker, port=broker.auth_port,
                           username=GW, password="wrong") as bad:
            await asyncio.sleep(1.0)
            assert not bad.uplink.connected and bad.uplink.connects == 0
    finally:
        broker.stop()


async def test_broker_down_while_capturing_then_everything_arrives(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    cloud = FakeCloud(mosquitto.port)
    before, during = [bp(i) for i in range(20)], [bp(100 + i) for i in range(50)]
    async with running(cloud), gateway(tmp_path, mosquitto, resend_ms=2000) as gw:
        for r in before:
            await gw.outbox.put(r)
        gw.drainer.notify()
        await until(lambda: gw.acks.acked == 20)
        await asyncio.to_thread(mosquitto.stop)
        await until(lambda: not gw.uplink.connected, within=5)
        for r in during:  # captured while offline: they wait in the outbox
            await gw.outbox.put(r)
            gw.drainer.notify()
        await asyncio.sleep(1.0)
        assert await depth(gw) == 50
        await asyncio.to_thread(mosquitto.start)
        await until(lambda: gw.acks.acked == 70, within=30)
        assert await depth(gw) == 0
    assert cloud.distinct() == {r.msg_id for r in before + during}


async def test_cancel_ends_the_uplink_even_when_the_broker_hangs(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    settings = MqttSettings(host="127.0.0.1", port=mosquitto.port, client_id=GW,
                            status_topic=topics.topic(GW, topics.TopicKind.STATUS),
                            subscriptions=(), publish_timeout_s=1.0)
    uplink = MqttUplink(settings, lambda: b"on", lambda: b"off")
    task = asyncio.create_task(uplink.run())
    await until(lambda: uplink.connected)
    assert mosquitto.process is not None
    os.kill(mosquitto.process.pid, signal.SIGSTOP)  # the DISCONNECT will never be answered
    try:
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=5)
        assert task in done and task.cancelled()
    finally:
        os.kill(mosquitto.process.pid, signal.SIGCONT)
