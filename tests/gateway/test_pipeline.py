"""Pipeline: rules → outbox (one transaction) → local sinks, with a real outbox file."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
import threading
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest

from edge_rules.config import parse_rules_config
from gateway.devices import StaticSource
from gateway.outbox import RULES_STATE, AsyncOutbox, Kind
from gateway.pipeline import LogSink, NoRules, Pipeline
from gateway.rules import EdgeRules
from tests.gateway.gw_factories import alert, bp, until
from tests.gateway.gw_live import glucose
from vitals.alerts import Alert, Severity
from vitals.readings import BloodPressure, Reading


@pytest.fixture
async def outbox(tmp_path: Path) -> AsyncIterator[AsyncOutbox]:
    box = AsyncOutbox(tmp_path / "o.db")
    yield box
    box.close()


REPO = str(Path(__file__).resolve().parents[2])


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


def committed(path: Path) -> set[str]:
    """msg_ids another connection can see: what is durably in the outbox."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {m for (m,) in db.execute("SELECT msg_id FROM outbox")}
    finally:
        db.close()


async def test_urgent_alert_reaches_sinks_while_its_transaction_is_still_committing(
    tmp_path: Path, outbox: AsyncOutbox
) -> None:
    sink = Recorder()
    pipe = Pipeline(outbox, HighSystolic(Severity.URGENT), [sink])
    await outbox.put(bp(0))  # the file and schema exist before the thread is held
    gate = threading.Event()
    held = outbox._submit(gate.wait, 30)  # the outbox thread is busy (a slow fsync, say)
    high = bp(1, systolic=200)
    task = asyncio.create_task(pipe.submit(high))
    try:
        await until(lambda: len(sink.got) == 1)  # warned although nothing could commit
        assert high.msg_id not in committed(tmp_path / "o.db")
        await asyncio.sleep(0.05)
        assert not task.done()  # submit returns only once the reading is durable
    finally:
        gate.set()
    alerts = await task
    await held
    assert {high.msg_id, alerts[0].msg_id} <= committed(tmp_path / "o.db")
    assert sink.got[0].msg_id == alerts[0].msg_id


async def test_a_cancelled_submit_still_stores_what_the_sinks_announced(
    tmp_path: Path, outbox: AsyncOutbox
) -> None:
    sink = Recorder()
    pipe = Pipeline(outbox, HighSystolic(Severity.URGENT), [sink])
    gate = threading.Event()
    held = outbox._submit(gate.wait, 30)
    high = bp(1, systolic=200)
    task = asyncio.create_task(pipe.submit(high))
    await until(lambda: len(sink.got) == 1)
    task.cancel()  # shutdown cancels the device task while the commit is queued
    with pytest.raises(asyncio.CancelledError):
        await task
    gate.set()
    await held
    await outbox.stats()  # runs after the queued put on the one outbox thread
    assert {high.msg_id, sink.got[0].msg_id} <= committed(tmp_path / "o.db")


# A gateway that warns the family and is killed before its transaction commits.
_DIES_BEFORE_COMMIT = """
import asyncio, sys, threading
from edge_rules.config import parse_rules_config
from gateway.outbox import AsyncOutbox
from gateway.pipeline import Pipeline
from gateway.rules import EdgeRules
from vitals.readings import Glucose

class Announce:
    async def deliver(self, alert):
        print("WARNED", alert.rule_id, flush=True)

async def main():
    box = AsyncOutbox(sys.argv[1])
    pipe = Pipeline(box, EdgeRules(parse_rules_config({}), preload_ecg=False), [Announce()])
    box._submit(threading.Event().wait)  # the commit never gets its turn
    await pipe.submit(Glucose.model_validate_json(sys.argv[2]))

asyncio.run(main())
"""


async def test_killed_between_warning_and_commit_the_redelivered_reading_warns_again(
    tmp_path: Path,
) -> None:
    """What docs/gateway.md claims: the family was warned, the outbox does not hold the
    reading; a device that sends it again (stored-record download, records simulator:
    same msg_id) gets it stored with its alert, and the alert fires again because the
    rule state of the lost transaction was not committed either."""
    path = tmp_path / "o.db"
    low = glucose(45, "p-kill")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _DIES_BEFORE_COMMIT, str(path), low.model_dump_json(),
        stdout=asyncio.subprocess.PIPE, cwd=REPO, env={**os.environ, "PYTHONPATH": REPO})
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        assert line.decode().split() == ["WARNED", "glucose_low"]
    finally:
        proc.kill()  # kill -9: no shutdown, no commit
        await proc.wait()
    assert low.msg_id not in committed(path)

    box = AsyncOutbox(path)
    try:
        rules = EdgeRules(parse_rules_config({}), state_json=await box.get_meta(RULES_STATE),
                          preload_ecg=False)
        sink = Recorder()
        alerts = await Pipeline(box, rules, [sink]).submit(low)
    finally:
        box.close()
    assert [a.rule_id for a in sink.got] == ["glucose_low"]
    assert {low.msg_id, alerts[0].msg_id} <= committed(path)
