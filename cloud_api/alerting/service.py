"""The alerting loops: escalation, delivery and cloud rules, each on a fixed tick.

They run inside every API replica's lifespan (``HOMERPM_ALERTING_LOOPS``, default on)
rather than in a separate process: each step is idempotent across replicas (CAS on the
workflow row, delivery claims, derived alert ids), so no leader election is needed and
a deployment has one process type less. To keep them out of the API set
``HOMERPM_ALERTING_LOOPS=false`` there and run ``homerpm cloud alerting``.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Engine

from cloud_api.alerting.clock import Clock, SystemClock
from cloud_api.alerting.cloud_rules import CloudRuleConfig, CloudRules
from cloud_api.alerting.dispatch import Dispatcher
from cloud_api.alerting.email import SmtpConfig, SmtpNotifier
from cloud_api.alerting.escalation import Escalator
from cloud_api.alerting.notify import Notifier
from cloud_api.alerting.webhook import WebhookNotifier
from cloud_api.db.engine import session_factory
from cloud_api.settings import CloudSettings

log = logging.getLogger(__name__)


async def _every(period_s: float, name: str, step: Callable[[], Awaitable[object]]) -> None:
    while True:
        try:
            await step()
        except Exception:  # a bad tick must not end the loop: log it and try next tick
            log.exception("alerting loop %s failed", name)
        await asyncio.sleep(period_s)


def smtp_config(settings: CloudSettings) -> SmtpConfig | None:
    if not settings.smtp_url:
        return None
    parts = urlsplit(settings.smtp_url)
    return SmtpConfig(parts.hostname or "localhost", parts.port or 25, settings.smtp_sender,
                      starttls=parts.scheme == "smtp+starttls",
                      username=parts.username, password=parts.password)


async def run_alerting(engine: Engine, settings: CloudSettings, clock: Clock | None = None,
                       notifiers: dict[str, Notifier] | None = None) -> None:
    """Run until cancelled."""
    clock = clock or SystemClock()
    sessions = session_factory(engine)
    async with httpx.AsyncClient(timeout=10.0) as http:
        if notifiers is None:
            notifiers = {"webhook": WebhookNotifier(http)}
            smtp = smtp_config(settings)
            if smtp is not None:
                notifiers["email"] = SmtpNotifier(smtp)
        dispatcher = Dispatcher(sessions, notifiers, clock, f"{socket.gethostname()}-{id(clock)}")
        escalator = Escalator(sessions, clock)
        rules = CloudRules(sessions, clock, CloudRuleConfig(
            offline_after_s=settings.gateway_offline_after_s,
            no_data_after_s=settings.no_data_after_s, patient_tz=settings.patient_tz))
        tick = settings.alerting_tick_s
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(_every(tick, "escalation",
                                     lambda: asyncio.to_thread(escalator.run_once)))
            tasks.create_task(_every(tick, "rules", lambda: asyncio.to_thread(rules.run_once)))
            tasks.create_task(_every(tick / 2, "delivery", dispatcher.run_once))
