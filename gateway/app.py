"""The gateway process: one asyncio app, every background task owned by one TaskGroup.

Wiring: device tasks → :class:`Pipeline` (rules, outbox, local sinks) → :class:`Drainer`
→ :class:`MqttUplink`; :class:`AckHandler` deletes acked rows; :class:`StatusReporter`
publishes the retained heartbeat. SIGTERM/SIGINT: device tasks stop first, the
transaction in flight finishes, the retained ``offline`` status is published, then the
connection closes with a normal DISCONNECT and the outbox file is closed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence

from gateway import systemd
from gateway.config import ConfigError, GatewayConfig, load_config
from gateway.devices import DeviceSource
from gateway.drain import AckHandler, Drainer, DrainSettings
from gateway.outbox import AsyncOutbox, Caps
from gateway.pipeline import LocalSink, LogSink, Pipeline, RuleEvaluator
from gateway.sources import build_sources
from gateway.status import StatusReporter
from gateway.uplink import MqttSettings, MqttUplink
from vitals import topics

log = logging.getLogger(__name__)


def outbox_caps(cfg: GatewayConfig) -> Caps:
    o = cfg.outbox
    return Caps(
        max_bytes=int(o.max_mb * 1024 * 1024),
        max_age_ms=int(o.max_age_days * 86_400_000),
        resend_after_ms=int(o.resend_after_s * 1000),
        lease_ms=int(max(cfg.mqtt.publish_timeout_s * 2, 30) * 1000),
    )


def mqtt_settings(cfg: GatewayConfig) -> MqttSettings:
    b, gw = cfg.mqtt, cfg.gateway_id
    return MqttSettings(
        host=b.host, port=b.port, client_id=gw,
        status_topic=topics.topic(gw, topics.TopicKind.STATUS),
        subscriptions=(topics.topic(gw, topics.TopicKind.ACK),
                       topics.topic(gw, topics.TopicKind.CONFIG)),
        username=b.username, password=b.password, tls=b.tls,
        ca_file=str(b.ca_file) if b.ca_file else None,
        cert_file=str(b.cert_file) if b.cert_file else None,
        key_file=str(b.key_file) if b.key_file else None,
        keepalive_s=b.keepalive_s, session_expiry_s=b.session_expiry_s,
        will_delay_s=b.will_delay_s, reconnect_min_s=b.reconnect_min_s,
        reconnect_max_s=b.reconnect_max_s, publish_timeout_s=b.publish_timeout_s,
        max_inflight=cfg.outbox.window * 2,
    )


def drain_settings(cfg: GatewayConfig) -> DrainSettings:
    o = cfg.outbox
    return DrainSettings(
        batch_max_items=o.batch_max_items, batch_max_bytes=o.batch_max_bytes,
        fetch_rows=max(o.batch_max_items * o.window // 2, o.batch_max_items),
        window=o.window, max_messages_per_s=o.max_messages_per_s, max_unacked=o.max_unacked,
    )


async def run(
    cfg: GatewayConfig,
    stop: asyncio.Event,
    sources: Sequence[DeviceSource] | None = None,
    rules: RuleEvaluator | None = None,
    sinks: Sequence[LocalSink] | None = None,
) -> None:
    """Run until ``stop`` is set, then shut down cleanly."""
    gw = cfg.gateway_id
    outbox = AsyncOutbox(cfg.outbox.path, outbox_caps(cfg))
    try:
        reporter = StatusReporter(gw, topics.topic(gw, topics.TopicKind.STATUS),
                                  simulated=any(d.simulated for d in cfg.devices))
        reporter.stats = await outbox.stats()
        log.info("gateway %s starting (boot %s); outbox depth %d", gw, reporter.boot_id,
                 reporter.stats.depth)
        uplink = MqttUplink(mqtt_settings(cfg), reporter.online, reporter.offline)
        drainer = Drainer(gw, outbox, uplink, drain_settings(cfg))
        acks = AckHandler(gw, outbox, uplink)
        pipeline = Pipeline(outbox, rules, sinks if sinks is not None else [LogSink()],
                            on_stored=drainer.notify)
        devices = list(sources) if sources is not None else build_sources(cfg)
        async with asyncio.TaskGroup() as tg:
            services = [
                tg.create_task(uplink.run(), name="uplink"),
                tg.create_task(drainer.run(), name="drain"),
                tg.create_task(acks.run(), name="acks"),
                tg.create_task(reporter.run(outbox, uplink, cfg.status_interval_s), name="status"),
                tg.create_task(systemd.watchdog(), name="watchdog"),
            ]
            device_tasks = [
                tg.create_task(pipeline.consume(d.readings()), name=f"device:{d.device_id}")
                for d in devices
            ]
            systemd.notify("READY=1")
            await stop.wait()
            log.info("shutting down")
            systemd.notify("STOPPING=1")
            for t in device_tasks:
                t.cancel()
            await asyncio.gather(*device_tasks, return_exceptions=True)
            reporter.stats = await outbox.stats()
            await uplink.go_offline()
            await cancel_all(services)
    finally:
        outbox.close()  # waits for a transaction still running on the outbox thread
    log.info("gateway %s stopped", gw)


async def cancel_all(tasks: Sequence[asyncio.Task[None]]) -> None:
    """Cancel until every task has ended: on Python 3.11, ``asyncio.wait_for`` inside
    aiomqtt can swallow a cancellation that races with a completing operation."""
    while pending := [t for t in tasks if not t.done()]:
        for t in pending:
            t.cancel()
        await asyncio.wait(pending, timeout=1)


async def _serve(cfg: GatewayConfig) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await run(cfg, stop)


def main(args: argparse.Namespace) -> int:
    try:
        cfg = load_config(args.config)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(cfg))
    return 0
