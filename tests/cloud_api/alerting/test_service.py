"""The alerting loops together (as the API lifespan runs them): a stored alert is
delivered, then escalated when the (fake) clock says so, and the escalation delivered."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import Engine

from cloud_api.alerting.clock import FakeClock
from cloud_api.alerting.notify import MemoryNotifier, Notifier
from cloud_api.alerting.service import run_alerting
from cloud_api.settings import CloudSettings
from tests.cloud_api.alerting.helpers import add_target, astore, gateway_alert
from tests.cloud_api.factories import T0


async def wait_for(predicate: Callable[[], bool], within: float = 10) -> None:
    """Poll: the loops run in other threads and signal nothing we could await."""
    async def poll() -> None:
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), within)


async def test_loops_deliver_and_escalate(engine: Engine, db_url: str) -> None:
    add_target(engine, "webhook", "http://nurse.example/hook", tier="nurse")
    add_target(engine, "webhook", "http://doc.example/hook", tier="physician")
    alert = gateway_alert()
    await astore(engine, alert)
    clock = FakeClock(T0 + timedelta(seconds=10))
    memory = MemoryNotifier()
    notifiers: dict[str, Notifier] = {"webhook": memory}
    settings = CloudSettings(database_url=db_url, alerting_tick_s=0.02)
    task = asyncio.create_task(run_alerting(engine, settings, clock, notifiers))
    try:
        await wait_for(lambda: len(memory.sent) == 1)
        assert memory.sent[0].payload["event"] == "raised"
        clock.advance(600)
        await wait_for(lambda: len(memory.sent) == 2)
        assert memory.sent[1].payload["event"] == "escalated"
        assert memory.sent[1].address == "http://doc.example/hook"
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
