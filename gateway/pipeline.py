"""Readings from device tasks → edge rules → outbox (one transaction) → local sinks.

The rule engine is a seam (:class:`RuleEvaluator`); a rule that raises never costs the
reading: the reading is stored without alerts and the failure is logged and recorded as
a gateway event. Urgent alerts go to the local sinks (log, webhook queue, status page)
*while* the outbox transaction commits, not after it: a warning at home must not wait for
an fsync (tens of ms on a busy SD card). ``submit`` still returns only once the reading
and its alerts are durable, so the device task asks for the next reading (and a record
download advances its cursor) only after the commit. If the process dies between the two,
the family was warned about a reading the outbox does not hold: a record-downloading
device sends it again on the next start (the alert fires again: the rule state was not
committed either), a streaming one loses it, as it would have without the alert.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from typing import Protocol

from gateway.outbox import AsyncOutbox
from vitals.alerts import Alert, Severity
from vitals.ids import new_msg_id
from vitals.readings import Reading
from vitals.wire import GatewayEvent

log = logging.getLogger(__name__)


class RuleEvaluator(Protocol):
    def evaluate(self, reading: Reading, now: datetime) -> list[Alert]: ...

    def tick(self, now: datetime) -> list[Alert]:
        """Evaluate with no new reading (timers: stale data, confirmation windows)."""
        ...

    def snapshot(self) -> str | None:
        """Engine state to persist with the outbox rows (None: nothing changed / stateless)."""
        ...


class NoRules:
    """Never alerts (tests, or a gateway run without rules)."""

    def evaluate(self, reading: Reading, now: datetime) -> list[Alert]:
        return []

    def tick(self, now: datetime) -> list[Alert]:
        return []

    def snapshot(self) -> str | None:
        return None


class LocalSink(Protocol):
    async def deliver(self, alert: Alert) -> None: ...


class LogSink:
    """Writes urgent alerts to the gateway log (what was measured, which limit)."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.log = logger or logging.getLogger("gateway.alerts")

    async def deliver(self, alert: Alert) -> None:
        self.log.warning("ALERT %s [%s] patient=%s: %s — %s", alert.rule_id,
                         alert.severity.label, alert.patient, alert.title, alert.explanation)


Captured = Reading | GatewayEvent


class Pipeline:
    def __init__(
        self,
        outbox: AsyncOutbox,
        rules: RuleEvaluator | None = None,
        sinks: Sequence[LocalSink] = (),
        on_stored: Callable[[], None] = lambda: None,
        sink_min_severity: Severity = Severity.URGENT,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_item: Callable[[Captured], None] = lambda item: None,
        on_alerts: Callable[[Sequence[Alert]], None] = lambda alerts: None,
    ) -> None:
        self.outbox = outbox
        self.rules: RuleEvaluator = rules or NoRules()
        self.sinks = tuple(sinks)
        self.on_stored = on_stored
        self.sink_min_severity = sink_min_severity
        self.clock = clock
        self.on_item = on_item  # e.g. the local status page's "last readings"
        self.on_alerts = on_alerts
        self.stored = 0

    async def submit(self, item: Captured) -> list[Alert]:
        """Store one captured reading (with its alerts) or event; return the alerts."""
        if isinstance(item, GatewayEvent):
            await self.outbox.put_event(item)
            self.stored += 1
            self.on_stored()
            self.on_item(item)
            return []
        now = self.clock()
        try:
            alerts = list(self.rules.evaluate(item, now))
        except Exception as exc:  # a broken rule must not cost the reading
            log.exception("rule evaluation failed for %s", item.msg_id)
            alerts = []
            await self.outbox.put_event(GatewayEvent(
                msg_id=new_msg_id(), at=now, code="rule_error", device=item.device.key,
                detail={"reading": item.msg_id, "error": repr(exc)[:500]},
                simulated=item.simulated))
        # Reading, its alerts and the engine state: one transaction (restart = no re-fire),
        # started now on the outbox thread; the sinks hear of the alerts meanwhile.
        commit = self.outbox.begin_put(item, alerts, state=self.rules.snapshot())
        await self._alerts_to_sinks(alerts)
        # Shielded: a cancelled device task (shutdown) still stores what the sinks announced.
        await asyncio.shield(commit)
        self.stored += 1
        self.on_stored()
        self.on_item(item)
        return alerts

    async def tick(self) -> list[Alert]:
        """Timer evaluation without readings; alerts and state stored together."""
        now = self.clock()
        try:
            alerts = list(self.rules.tick(now))
        except Exception:
            log.exception("rule tick failed")
            return []
        state = self.rules.snapshot()
        if alerts or state is not None:
            commit = self.outbox.begin_put_alerts(alerts, state=state)
            await self._alerts_to_sinks(alerts)
            await asyncio.shield(commit)
        if alerts:
            self.on_stored()
        return alerts

    async def tick_forever(self, interval_s: float) -> None:
        while True:
            await asyncio.sleep(interval_s)
            await self.tick()

    async def _alerts_to_sinks(self, alerts: Sequence[Alert]) -> None:
        if alerts:
            self.on_alerts(alerts)
        for alert in alerts:
            if alert.severity >= self.sink_min_severity:
                await self._to_sinks(alert)

    async def _to_sinks(self, alert: Alert) -> None:
        for sink in self.sinks:
            try:
                await sink.deliver(alert)
            except Exception:
                log.exception("local sink %r failed for alert %s", sink, alert.msg_id)

    async def consume(self, source: AsyncIterator[Captured]) -> None:
        """Feed everything a device task yields into the pipeline."""
        async for item in source:
            await self.submit(item)
