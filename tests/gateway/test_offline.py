"""Offline periods against real mosquitto and the real ingest worker (SQLite store).

The gateway runs in-process (``gateway.app.run``) with the real edge rules; readings are
fed by the test; a real HTTP receiver stands in for the family's webhook.

* ``test_broker_stopped_60_s_mid_stream``: the broker process is stopped for 60 s while
  readings keep coming; an urgent low glucose arrives meanwhile. Readings the gateway
  publishes after the restart but before the ingest worker has re-subscribed are dropped
  by mosquitto (shared subscriptions are not queued); the resend timer (20 s here) repairs it.
* ``test_ten_minute_offline_scaled``: the home's link is cut (broker and cloud keep
  running). Wall-clock shortened to 30 s by making the timers that matter over 10 minutes
  proportionally short — ``session_expiry_s`` = 10 (< the outage, so the broker drops the
  session and the acks queued in it, as a 7-day expiry would over a long outage, or a
  5-min one over 10 min), ``resend_after_s`` = 6 (fires during the outage, as the
  60-s default does over 10 min) and ``reconnect_max_s`` = 3 (the backoff reaches its
  cap several times).
  The ingest worker is paused (SIGSTOP) when the link is cut, so its acks for the last
  readings land in the gateway's session while it is away and are lost with it: only a
  resend (after the reconnect, or by the timer) can repair that.

Both: everything buffered is drained, the cloud holds each reading exactly once, and the
urgent alert reached the local webhook within a second while offline.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from firmware_sim.services import Mosquitto
from gateway.app import run
from gateway.config import GatewayConfig
from tests.gateway.gw_factories import until
from tests.gateway.gw_live import QueueSource, TcpCut, WebhookReceiver, glucose
from tests.gateway.gw_process import (
    GW,
    PATIENT,
    cloud_alerts,
    cloud_readings,
    outbox_depth,
    seed_cloud,
    start_ingest,
)
from vitals import wire
from vitals.alerts import Severity
from vitals.topics import TopicKind, subscription

pytestmark = [pytest.mark.services, pytest.mark.slow]
SECRET = "family-webhook-secret"


def config(tmp_path: Path, port: int, webhook: str, resend_after_s: float = 600,
           **mqtt: Any) -> GatewayConfig:
    return GatewayConfig(
        gateway_id=GW, status_interval_s=1,
        mqtt={"url": f"mqtt://127.0.0.1:{port}", "will_delay_s": 0, "reconnect_min_s": 0.2,
              "reconnect_max_s": 2, "keepalive_s": 5, **mqtt},
        outbox={"path": tmp_path / "outbox.db", "max_messages_per_s": 0,
                "resend_after_s": resend_after_s},
        webhook={"url": webhook, "secret": SECRET},
        status_page={"enabled": False},
    )


async def watch(port: int, deliveries: Counter[str], ready: asyncio.Event) -> None:
    """Count every reading delivery that crosses the broker (resends included)."""
    async with aiomqtt.Client("127.0.0.1", port, protocol=aiomqtt.ProtocolVersion.V5) as c:
        await c.subscribe(subscription(TopicKind.READINGS), qos=1)
        ready.set()
        async for message in c.messages:
            batch = wire.decode(message.payload)  # type: ignore[arg-type]
            assert isinstance(batch, wire.ReadingsBatch)
            deliveries.update(item.msg_id for item in batch.items)


async def feed(source: QueueSource, n: int, fed: list[str], pace_s: float = 0.02) -> None:
    for _ in range(n):
        r = glucose(110, PATIENT)
        fed.append(r.msg_id)
        await source.queue.put(r)
        await asyncio.sleep(pace_s)


async def urgent_while_offline(source: QueueSource, hook: WebhookReceiver,
                               fed: list[str]) -> float:
    """Feed a 45 mg/dL reading; return seconds until the signed webhook POST arrived."""
    before = len(hook.received)
    low = glucose(45, PATIENT)
    fed.append(low.msg_id)
    t0 = time.monotonic()
    await source.queue.put(low)
    await until(lambda: len(hook.received) > before, within=5)
    at, body = hook.received[before]
    assert body["rule_id"] == "glucose_low" and body["severity"] == Severity.URGENT
    assert body["simulated"] is True
    return at - t0


@contextlib.asynccontextmanager
async def gateway(cfg: GatewayConfig, source: QueueSource) -> Any:
    stop = asyncio.Event()
    task = asyncio.create_task(run(cfg, stop, sources=[source]))
    try:
        yield task
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def test_broker_stopped_60_s_mid_stream(tmp_path: Path, mosquitto: Mosquitto) -> None:
    db_url = seed_cloud(tmp_path)
    ingest = start_ingest(tmp_path, mosquitto, db_url)
    source, fed = QueueSource("meter-1"), list[str]()
    try:
        # resend_after_s = 20: mosquitto does not queue messages for a shared subscription
        # whose worker is still reconnecting after the broker restart (its backoff may be
        # 30 s); the gateway's resend timer is what repairs that (default 60 s, doubling).
        async with WebhookReceiver(SECRET) as hook, gateway(
                config(tmp_path, mosquitto.port, hook.url, resend_after_s=20), source):
            await feed(source, 50, fed)
            # Mid-stream: the cloud is up and storing (its subscription exists) ...
            await until(lambda: set(fed) <= set(cloud_readings(tmp_path)), within=60)
            mosquitto.stop()  # ... and then the broker goes away for 60 s.
            t_down = time.monotonic()
            await feed(source, 50, fed)
            latency = await urgent_while_offline(source, hook, fed)
            await feed(source, 50, fed)
            assert outbox_depth(tmp_path) > 0
            await asyncio.sleep(max(0.0, 60 - (time.monotonic() - t_down)))
            mosquitto.start()
            # The ingest worker's own backoff may be at its 30-s cap by now.
            await until(lambda: set(fed) <= set(cloud_readings(tmp_path)), within=90)
            await until(lambda: outbox_depth(tmp_path) == 0, within=30)
    finally:
        ingest.stop()
    stored = cloud_readings(tmp_path)
    assert len(stored) == len(fed) == 151 and set(stored) == set(fed)
    assert latency < 1.0
    assert any(True for _ in cloud_alerts(tmp_path))  # the alert reached the cloud as well
    assert hook.bad_signatures == 0


async def test_ten_minute_offline_scaled(
    tmp_path: Path, mosquitto: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="gateway.uplink")
    db_url = seed_cloud(tmp_path)
    ingest = start_ingest(tmp_path, mosquitto, db_url)
    source, fed = QueueSource("meter-1"), list[str]()
    deliveries: Counter[str] = Counter()
    ready = asyncio.Event()
    watcher = asyncio.create_task(watch(mosquitto.port, deliveries, ready))
    await asyncio.wait_for(ready.wait(), 10)
    try:
        async with WebhookReceiver(SECRET) as hook, TcpCut(mosquitto.port) as link:
            cfg = config(tmp_path, link.port, hook.url, session_expiry_s=10, reconnect_max_s=3,
                         resend_after_s=6)
            async with gateway(cfg, source):
                await feed(source, 40, fed)
                await until(lambda: set(fed) <= set(cloud_readings(tmp_path)), within=30)
                # The last readings reach the broker, but the cloud acks them only after
                # the home went offline: those acks sit in a session that will expire.
                ingest.proc.send_signal(signal.SIGSTOP)
                last = []
                await feed(source, 10, last)
                fed += last
                await until(lambda: all(deliveries[m] for m in last), within=10)
                link.cut()
                ingest.proc.send_signal(signal.SIGCONT)
                t_cut, wall_cut = time.monotonic(), time.time()
                await feed(source, 30, fed, pace_s=0.2)
                latency = await urgent_while_offline(source, hook, fed)
                await feed(source, 30, fed, pace_s=0.2)
                await asyncio.sleep(max(0.0, 30 - (time.monotonic() - t_cut)))
                retries = [float(m.group(1)) for r in caplog.records
                           if r.created >= wall_cut and
                           (m := re.search(r"retrying in ([0-9.]+) s", r.getMessage()))]
                await link.restore()
                await until(lambda: set(fed) <= set(cloud_readings(tmp_path)), within=60)
                await until(lambda: outbox_depth(tmp_path) == 0, within=30)
    finally:
        ingest.proc.send_signal(signal.SIGCONT)
        ingest.stop()
        watcher.cancel()
    stored = cloud_readings(tmp_path)
    assert len(stored) == len(fed) and set(stored) == set(fed)  # each exactly once
    assert latency < 1.0
    # The acks of `last` were lost with the expired session: they were re-sent.
    assert all(deliveries[m] >= 2 for m in last), {m: deliveries[m] for m in last}
    # Reconnect attempts kept coming during the outage, each backoff within the 3-s cap.
    assert len(retries) >= 6 and max(retries) <= 3.0, retries
