"""The edge-rule engine inside the pipeline: state stored with the reading, restored on
start (no re-fire, no forgetting), and the no-reading timer tick."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from edge_rules.config import parse_rules_config
from gateway.outbox import RULES_STATE, AsyncOutbox
from gateway.pipeline import Pipeline
from gateway.rules import EdgeRules
from tests.gateway.gw_live import glucose
from vitals.alerts import AlertState, Severity


class Clock:
    def __init__(self) -> None:
        # Taken when the test runs, not at import: readings made with the wall clock must not
        # look future-dated to the engine when the suite reaches this file minutes later.
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def make(path: Path, clock: Clock, restore: bool = True) -> tuple[AsyncOutbox, Pipeline, EdgeRules]:
    box = AsyncOutbox(path)
    state = box.sync.get_meta(RULES_STATE) if restore else None
    rules = EdgeRules(parse_rules_config({}), state_json=state, preload_ecg=False)
    return box, Pipeline(box, rules, clock=clock), rules


def alert_rows(path: Path) -> list[dict[str, object]]:
    with sqlite3.connect(path) as db:
        return [json.loads(p) for (p,) in
                db.execute("SELECT payload FROM outbox WHERE kind = 'alert' ORDER BY seq")]


async def test_urgent_low_fires_once_and_not_again_after_restart(tmp_path: Path) -> None:
    path, clock = tmp_path / "o.db", Clock()
    box, pipe, rules = make(path, clock)
    alerts = await pipe.submit(glucose(45, "p-1"))
    assert [(a.rule_id, a.severity, a.state) for a in alerts] == [
        ("glucose_low", Severity.URGENT, AlertState.OPEN)]
    assert rules.open_alerts() == 1
    box.close()
    assert box.sync.path.exists()
    with sqlite3.connect(path) as db:  # the state went into the file with the reading
        assert db.execute("SELECT value FROM meta WHERE key = ?", (RULES_STATE,)).fetchone()

    clock.now += timedelta(minutes=1)
    box, pipe, rules = make(path, clock)
    assert rules.open_alerts() == 1  # not forgotten
    assert await pipe.submit(glucose(44, "p-1")) == []  # not re-fired
    box.close()
    assert len(alert_rows(path)) == 1

    # Negative control: without the stored state the same reading opens a second alert.
    box, pipe, _ = make(path, clock, restore=False)
    assert [a.state for a in await pipe.submit(glucose(44, "p-1"))] == [AlertState.OPEN]
    box.close()


async def test_timer_tick_raises_stale_data_alert_without_readings(tmp_path: Path) -> None:
    path, clock = tmp_path / "o.db", Clock()
    box, pipe, _ = make(path, clock)
    await pipe.submit(glucose(110, "p-2"))
    assert await pipe.tick() == []
    clock.now += timedelta(hours=49)  # the meter's 48-h adherence rule
    ticked = await pipe.tick()
    assert [a.rule_id for a in ticked] == ["no_reading_glucose_meter"]
    assert await pipe.tick() == []  # once, not every tick
    box.close()
    assert [a["rule_id"] for a in alert_rows(path)] == ["no_reading_glucose_meter"]


async def test_rule_swap_keeps_state(tmp_path: Path) -> None:
    path, clock = tmp_path / "o.db", Clock()
    box, pipe, rules = make(path, clock)
    await pipe.submit(glucose(45, "p-3"))
    rules.use(parse_rules_config({"profile": "aha"}))
    assert rules.open_alerts() == 1
    clock.now += timedelta(minutes=1)
    assert await pipe.submit(glucose(44, "p-3")) == []
    box.close()
