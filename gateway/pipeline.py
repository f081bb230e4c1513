"""Readings from device tasks → edge rules → outbox (one transaction) → local sinks.

The rule engine is a seam (:class:`RuleEvaluator`); a rule that raises never costs the
reading: the reading is stored without alerts and the failure is logged and recorded as
a gateway event. Urgent alerts also go to local sinks (log now; buzzer, webhook, status
page later) *after* they are durably in the outbox.
"""

from __future__ import annotations

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


class NoRules:
    """The default until the edge-rule engine is plugged in: never alerts."""

    def evaluate(self, reading: Reading, now: datetime) -> list[Alert]:
        return []


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
    ) -> None:
        self.outbox = outbox
        self.rules: RuleEvaluator = rules or NoRules()
        self.sinks = tuple(sinks)
        self.on_stored = on_stored
        self.sink_min_severity = sink_min_severity
        self.clock = clock
        self.stored = 0

    async def submit(self, item: Captured) -> list[Alert]:
        """Store one captured reading (with its alerts) or event; return the alerts."""
        if isinstance(item, GatewayEvent):
            await self.outbox.put_event(item)
            self.stored += 1
            self.on_stored()
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
        await self.outbox.put(item, alerts)
        self.stored += 1
        self.on_stored()
        for alert in alerts:
            if alert.severity >= self.sink_min_severity:
                await self._to_sinks(alert)
        return alerts

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
