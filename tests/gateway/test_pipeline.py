"""Pipeline: rules → outbox (one transaction) → local sinks, with a real outbox file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest

from gateway.devices import StaticSource
from gateway.outbox import AsyncOutbox, Kind
from gateway.pipeline import LogSink, NoRules, Pipeline
from tests.gateway.gw_factories import alert, bp
from vitals.alerts import Alert, Severity
from vitals.readings import BloodPressure, Reading


@pytest.fixture
async def outbox(tmp_path: Path) -> AsyncIterator[AsyncOutbox]:
    box = AsyncOutbox(tmp_path / "o.db")
    yield box
    box.close()


class HighSystolic(NoRules):
    """Test rule: an alert of the given severity when systolic ≥ 180."""

    def __init__(self, severity: Severity) -> None:
        self.severity = severity

    def evaluate(self, reading: Reading, now: datetime) -> list[Alert]:
        if isinstance(reading, BloodPressure) and reading.systolic >= 180:
            return [alert(reading, self.severity)]
        return []


class Broken(NoRules):
    def evaluate(self, reading: Reading, now: datetime) -> list[Alert]:
        raise RuntimeError("rule bug")


class Recorder:
    def __init__(self) -> None:
        self.got: list[Alert] = []

    async def deliver(self, alert: Alert) -> None:
        self.got.append(alert)


class FailingSink:
    async def deliver(self, alert: Alert) -> None:
        raise OSError("buzzer unplugged")


async def test_reading_and_its_alert_are_stored_and_urgent_goes_to_sinks(
    outbox: AsyncOutbox,
) -> None:
    sink = Recorder()
    notified = []
    pipe = Pipeline(outbox, HighSystolic(Severity.URGENT), [FailingSink(), sink, LogSink()],
                    on_stored=lambda: notified.append(1))
    high = bp(1, systolic=195)
    await pipe.consume(StaticSource("cuff", [bp(0), high]).readings())
    rows = outbox.sync.next_batch(10, now=10**13)
    assert [r.kind for r in rows] == [Kind.ALERT, Kind.READING, Kind.READING]
    assert rows[2].msg_id == high.msg_id
    assert [a.rule_id for a in sink.got] == ["bp.test"]  # despite the failing sink before it
    assert len(notified) == 2


async def test_non_urgent_alerts_are_stored_but_not_sent_to_sinks(outbox: AsyncOutbox) -> None:
    sink = Recorder()
    pipe = Pipeline(outbox, HighSystolic(Severity.WARNING), [sink])
    alerts = await pipe.submit(bp(1, systolic=190))
    assert len(alerts) == 1 and sink.got == []
    assert (await outbox.stats()).alerts == 1


async def test_broken_rule_keeps_the_reading_and_records_an_event(outbox: AsyncOutbox) -> None:
    pipe = Pipeline(outbox, Broken())
    r = bp(1)
    assert await pipe.submit(r) == []
    rows = outbox.sync.next_batch(10, now=10**13)
    assert [row.kind for row in rows] == [Kind.EVENT, Kind.READING]
    assert '"code":"rule_error"' in rows[0].payload and r.msg_id in rows[0].payload
