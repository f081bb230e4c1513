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
from collections.abc import Coroutine, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from edge_rules.config import RulesConfig
from edge_rules.ruleset import RuleSet, load_ruleset
from gateway import systemd
from gateway.ble_sources import open_devices
from gateway.config import ConfigError, GatewayConfig, load_config
from gateway.devices import DeviceSource, ReportsBattery
from gateway.downlink import ConfigApplier, DeviceBinding, rebind
from gateway.drain import AckHandler, Drainer, DrainSettings
from gateway.health import adapter_state, cpu_temp_c, disk_free_mb
from gateway.localview import DeviceRow, LocalView
from gateway.outbox import RULES_STATE, AsyncOutbox, Caps
from gateway.pipeline import LocalSink, LogSink, Pipeline, RuleEvaluator
from gateway.rules import EdgeRules, load_rules_config
from gateway.status import Health, StatusReporter
from gateway.statuspage import StatusPage
from gateway.uplink import MqttSettings, MqttUplink
from gateway.webhook import HttpxPoster, WebhookSettings, WebhookSink
from vitals import topics
from vitals.alerts import Severity
from vitals.readings import ReadingKind
from vitals.status import DeviceHealth

log = logging.getLogger(__name__)


def outbox_caps(cfg: GatewayConfig) -> Caps:
    o = cfg.outbox
    return Caps(
        max_bytes=int(o.max_mb * 1024 * 1024),
        max_age_ms=int(o.max_age_days * 86_400_000),
        resend_after_ms=int(o.resend_after_s * 1000),
        resend_max_ms=int(o.resend_max_s * 1000),
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
        resend_after_connect_s=o.resend_after_connect_s,
    )


def _severity(name: str) -> Severity:
    return {"info": Severity.INFO, "warning": Severity.WARNING, "urgent": Severity.URGENT}[name]


async def _consume(pipeline: Pipeline, view: LocalView, source: DeviceSource) -> None:
    """One device task: every item is durable (pipeline.submit) before the next is asked."""
    async for item in source.readings():
        await pipeline.submit(item)
        view.item(source.device_id, item)


async def _optional(name: str, coro: Coroutine[Any, Any, None]) -> None:
    """A nice-to-have service (status page, webhook) must not take the gateway down."""
    try:
        await coro
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("%s stopped", name)


async def run(
    cfg: GatewayConfig,
    stop: asyncio.Event,
    sources: Sequence[DeviceSource] | None = None,
    rules: RuleEvaluator | None = None,
    sinks: Sequence[LocalSink] | None = None,
    view: LocalView | None = None,
) -> None:
    """Run until ``stop`` is set, then shut down cleanly.

    ``sources``/``rules``/``sinks`` replace what the config would build (tests, bench);
    ``view`` receives what the local status page shows.
    """
    gw = cfg.gateway_id
    outbox = AsyncOutbox(cfg.outbox.path, outbox_caps(cfg))
    view = view if view is not None else LocalView()
    try:
        async with contextlib.AsyncExitStack() as stack:
            reporter = StatusReporter(gw, topics.topic(gw, topics.TopicKind.STATUS),
                                      simulated=any(d.simulated for d in cfg.devices))
            reporter.stats = await outbox.stats()
            log.info("gateway %s starting (boot %s); outbox depth %d", gw, reporter.boot_id,
                     reporter.stats.depth)
            helpers: list[Coroutine[Any, Any, None]] = []
            if sources is None:
                devset = await open_devices(cfg, stack)
                devices: list[DeviceSource] = devset.sources
                helpers += devset.helpers
            else:
                devices = list(sources)
            edge: EdgeRules | None = None
            local_rules: RulesConfig | None = None
            if rules is None and cfg.rules.enabled:
                local_rules = rules_from_config(cfg)
                edge = EdgeRules(
                    local_rules, state_json=await outbox.get_meta(RULES_STATE),
                    preload_ecg=any(d.kind is ReadingKind.ECG for d in cfg.devices))
                rules = edge
                log.info("edge rules: %s, %d open alerts restored",
                         local_rules.ruleset.version, edge.open_alerts())
            view.devices = [DeviceRow(d.id or "", d.kind.value, d.patient, d.simulated,
                                      d.address) for d in cfg.devices]
            bindings = [DeviceBinding(d.id or "", d.address, d.patient,
                                      _assigner(view, devices, d.id or ""))
                        for d in cfg.devices]
            applier = ConfigApplier(
                gw, outbox, bindings, base_rules=_base_ruleset(cfg) if local_rules else None,
                local_rules=local_rules, use_rules=edge.use if edge else lambda rc: None)
            await applier.restore()

            uplink = MqttUplink(mqtt_settings(cfg), reporter.online, reporter.offline)
            drainer = Drainer(gw, outbox, uplink, drain_settings(cfg))
            acks = AckHandler(gw, outbox, uplink, on_config=applier.handle)
            all_sinks: list[LocalSink] = list(sinks) if sinks is not None else [LogSink()]
            min_sev = Severity.URGENT
            webhook: WebhookSink | None = None
            if cfg.webhook.url:
                w = cfg.webhook
                webhook = WebhookSink(WebhookSettings(
                    url=w.url or "", secret=w.secret, timeout_s=w.timeout_s,
                    backoff_max_s=w.backoff_max_s, max_attempts=w.max_attempts,
                    min_severity=_severity(w.min_severity)), HttpxPoster(), store=outbox)
                await webhook.restore()
                all_sinks.append(webhook)
                min_sev = min(min_sev, webhook.settings.min_severity)
            pipeline = Pipeline(outbox, rules, all_sinks, on_stored=drainer.notify,
                                sink_min_severity=min_sev, on_alerts=view.alerts_seen)
            reporter.probe = _prober(cfg, reporter, applier, view, uplink, devices)

            async with asyncio.TaskGroup() as tg:
                heartbeat = tg.create_task(reporter.run(outbox, uplink, cfg.status_interval_s),
                                           name="status")
                services = [
                    tg.create_task(uplink.run(), name="uplink"),
                    tg.create_task(drainer.run(), name="drain"),
                    tg.create_task(acks.run(), name="acks"),
                    heartbeat,
                    tg.create_task(systemd.watchdog(outbox.unacked), name="watchdog"),
                    tg.create_task(pipeline.tick_forever(cfg.rules.tick_s), name="rule-tick"),
                ]
                if webhook is not None:
                    services.append(tg.create_task(_optional("webhook", webhook.run()),
                                                   name="webhook"))
                if cfg.status_page.enabled:
                    page = StatusPage(view, cfg.status_page.host, cfg.status_page.port)
                    services.append(tg.create_task(_optional("status page", page.run()),
                                                   name="status-page"))
                services += [tg.create_task(_optional("simulated patient", h)) for h in helpers]
                device_tasks = [
                    tg.create_task(_consume(pipeline, view, d), name=f"device:{d.device_id}")
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
                # The heartbeat stops first: one in flight would otherwise land after the
                # offline status and leave a stopped gateway retained as online.
                await cancel_all([heartbeat])
                await uplink.go_offline()
                await cancel_all(services)
            if webhook is not None and isinstance(webhook.poster, HttpxPoster):
                await webhook.poster.aclose()
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


def _base_ruleset(cfg: GatewayConfig) -> RuleSet:
    return load_ruleset(cfg.rules.path) if cfg.rules.path else load_ruleset()


def rules_from_config(cfg: GatewayConfig) -> RulesConfig:
    return load_rules_config(str(cfg.rules.path) if cfg.rules.path else None,
                             cfg.rules.profile, cfg.rules.patients)


def _assigner(view: LocalView, devices: Sequence[DeviceSource], device_id: str) -> Any:
    def assign(patient: str) -> None:
        for d in devices:
            if d.device_id == device_id:
                rebind(d, patient)
        view.devices = [replace(r, patient=patient) if r.device_id == device_id else r
                        for r in view.devices]
    return assign


def _prober(cfg: GatewayConfig, reporter: StatusReporter, applier: ConfigApplier,
            view: LocalView, uplink: MqttUplink, devices: Sequence[DeviceSource]) -> Any:
    uses_ble = any(not d.simulated for d in cfg.devices)
    batteries = {d.device_id: d for d in devices if isinstance(d, ReportsBattery)}

    async def probe() -> Health:
        adapter = await adapter_state(cfg.bluetooth.adapter) if uses_ble else "not used"
        health = Health(
            config_version=applier.version, adapter=adapter, cpu_temp_c=cpu_temp_c(),
            disk_free_mb=disk_free_mb(Path(cfg.outbox.path)),
            devices=tuple(DeviceHealth(device=r.device_id,
                                       last_reading_at=(view.last[r.device_id].at
                                                        if r.device_id in view.last else None),
                                       battery_pct=(batteries[r.device_id].battery_pct
                                                    if r.device_id in batteries else None))
                          for r in view.devices))
        s = reporter.stats
        view.health = {"gateway": cfg.gateway_id, "online": uplink.connected,
                       "outbox_depth": s.depth if s else None, "adapter": adapter,
                       "config_version": applier.version,
                       "config_rejected": applier.last_rejection,
                       "cpu_temp_c": health.cpu_temp_c, "disk_free_mb": health.disk_free_mb,
                       "battery_pct": {d.device: d.battery_pct for d in health.devices
                                       if d.battery_pct is not None}}
        return health
    return probe


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
