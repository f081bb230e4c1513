"""Delivery: signed webhooks with retries, exactly one delivery per recipient and event,
e-mail through a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes

import httpx
import pytest
from aiohttp import web
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cloud_api.alerting.clock import FakeClock
from cloud_api.alerting.dispatch import Dispatcher, RetryPolicy
from cloud_api.alerting.email import SmtpConfig, SmtpNotifier
from cloud_api.alerting.lifecycle import Actor, acknowledge, get_workflow
from cloud_api.alerting.models import AlertActivity, AlertDelivery
from cloud_api.alerting.notify import MemoryNotifier, Notifier
from cloud_api.alerting.webhook import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookNotifier,
    verify,
)
from cloud_api.db.engine import session_factory
from cloud_api.db.models import AlertRow
from tests.cloud_api.alerting.helpers import SECRET, add_target, astore, gateway_alert
from tests.cloud_api.factories import T0


def dispatcher(engine: Engine, notifiers: dict[str, Notifier], worker: str = "w1") -> Dispatcher:
    async def no_sleep(_: float) -> None:
        await asyncio.sleep(0)

    return Dispatcher(session_factory(engine), notifiers, FakeClock(T0 + timedelta(seconds=5)),
                      worker, retry=RetryPolicy(max_attempts=4), sleep=no_sleep)


def deliveries(engine: Engine) -> list[AlertDelivery]:
    with Session(engine) as db:
        return list(db.scalars(select(AlertDelivery).order_by(AlertDelivery.id)))


@dataclass
class Receiver:
    url: str
    statuses: list[int]  # answers to give, then 200
    got: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    accepted: list[dict[str, object]] = field(default_factory=list)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver("", [500, 500])

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        rec.got.append((dict(request.headers), body))
        if not verify(SECRET, request.headers[TIMESTAMP_HEADER], body,
                      request.headers[SIGNATURE_HEADER]):
            return web.Response(status=401)
        if rec.statuses:
            return web.Response(status=rec.statuses.pop(0))
        rec.accepted.append(json.loads(body))
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    site = web.SockSite(runner, sock)
    await site.start()
    rec.url = f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    try:
        yield rec
    finally:
        await runner.cleanup()


async def test_webhook_is_signed_retried_on_500_and_delivered_once(
    engine: Engine, receiver: Receiver
) -> None:
    add_target(engine, "webhook", receiver.url)
    alert = gateway_alert()
    await astore(engine, alert)
    async with httpx.AsyncClient() as http:
        d = dispatcher(engine, {"webhook": WebhookNotifier(http)})
        assert await d.run_once() == 1
        assert await d.run_once() == 0  # nothing left: no re-send
    assert len(receiver.got) == 3 and len(receiver.accepted) == 1
    keys = {h[DELIVERY_HEADER] for h, _ in receiver.got}
    assert len(keys) == 1  # same delivery key on every retry: receivers may dedupe
    payload = receiver.accepted[0]
    assert payload["event"] == "raised" and payload["alert_id"] == alert.alert_id
    assert payload["why"]["rule_id"] == "glucose_low"  # type: ignore[index]
    [row] = deliveries(engine)
    assert row.status == "sent" and row.attempts == 3 and len(row.log) == 3
    assert [e["ok"] for e in row.log] == [False, False, True]
    with session_factory(engine)() as db:
        wf = get_workflow(db, alert.alert_id)
        assert wf.status == "delivered"
        kinds = db.scalars(select(AlertActivity.kind).where(
            AlertActivity.alert_id == alert.alert_id).order_by(AlertActivity.id)).all()
    assert kinds == ["raised", "delivered"]
    # tampering is detected by the receiver's check
    headers, body = receiver.got[-1]
    assert not verify(SECRET, headers[TIMESTAMP_HEADER], body + b" ", headers[SIGNATURE_HEADER])


async def test_two_racing_dispatchers_send_one_per_recipient_per_state_change(
    engine: Engine
) -> None:
    add_target(engine, "webhook", "http://nurse.example/hook")
    add_target(engine, "webhook", "http://nurse2.example/hook")
    alert = gateway_alert()
    await astore(engine, alert)
    shared_a, shared_b = MemoryNotifier(), MemoryNotifier()
    d1 = dispatcher(engine, {"webhook": shared_a}, "w1")
    d2 = dispatcher(engine, {"webhook": shared_b}, "w2")
    await asyncio.gather(d1.run_once(), d2.run_once(), d1.dispatch(1), d2.dispatch(1))
    with session_factory(engine).begin() as db:
        acknowledge(db, get_workflow(db, alert.alert_id), Actor("demo", 1), T0)
    await asyncio.gather(d1.run_once(), d2.run_once())
    sent = [(n.address, n.payload["event"]) for n in shared_a.sent + shared_b.sent]
    assert sorted(sent) == sorted([("http://nurse.example/hook", "raised"),
                                   ("http://nurse2.example/hook", "raised"),
                                   ("http://nurse.example/hook", "acknowledged"),
                                   ("http://nurse2.example/hook", "acknowledged")])
    assert all(r.status == "sent" and r.attempts == 1 for r in deliveries(engine))


async def test_failing_recipient_is_given_up_after_max_attempts(engine: Engine) -> None:
    add_target(engine, "webhook", "http://down.example/hook")
    await astore(engine, gateway_alert())
    flaky = MemoryNotifier(fail_first=10)
    assert await dispatcher(engine, {"webhook": flaky}).run_once() == 1
    [row] = deliveries(engine)
    assert row.status == "failed" and row.attempts == 4 and flaky.sent == []


async def test_email_arrives_at_smtp_server(engine: Engine) -> None:
    class Inbox:
        def __init__(self) -> None:
            self.messages: list[bytes] = []

        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
            self.messages.append(envelope.content)  # type: ignore[attr-defined]
            return "250 OK"

    inbox = Inbox()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        add_target(engine, "email", "nurse@clinic.example")
        alert = gateway_alert()
        await astore(engine, alert)
        smtp = SmtpNotifier(SmtpConfig("127.0.0.1", port, sender="alerts@homerpm.example"))
        assert await dispatcher(engine, {"email": smtp}).run_once() == 1
    finally:
        controller.stop()
    [raw] = inbox.messages
    msg = message_from_bytes(raw)
    assert msg["To"] == "nurse@clinic.example"
    assert msg["Subject"] == "[SIMULATED] [urgent] raised: Glucose below 54 mg/dL"
    assert alert.alert_id in msg.get_payload() and "Demo" not in msg.get_payload()
    assert deliveries(engine)[0].status == "sent"


async def test_escalation_pages_the_next_tier_and_ack_tells_every_tier_reached(
    engine: Engine
) -> None:
    from cloud_api.alerting.escalation import Escalator

    add_target(engine, "webhook", "http://nurse.example/hook", tier="nurse")
    add_target(engine, "webhook", "http://doc.example/hook", tier="physician")
    add_target(engine, "webhook", "http://partner.example/hook", tier="partner-hospital")
    alert = gateway_alert()
    await astore(engine, alert)
    memory = MemoryNotifier()
    d = dispatcher(engine, {"webhook": memory})
    await d.run_once()
    assert await asyncio.to_thread(Escalator(session_factory(engine),
                                             FakeClock(T0 + timedelta(minutes=10))).run_once) == 1
    await d.run_once()
    with session_factory(engine).begin() as db:
        acknowledge(db, get_workflow(db, alert.alert_id), Actor("demo", 1), T0)
    await d.run_once()
    assert [(n.address.split("//")[1].split(".")[0], n.payload["event"]) for n in memory.sent] == [
        ("nurse", "raised"), ("doc", "escalated"), ("nurse", "acknowledged"),
        ("doc", "acknowledged")]


async def test_notification_held_by_a_snooze_goes_out_when_it_ends(engine: Engine) -> None:
    from cloud_api.alerting.lifecycle import snooze

    add_target(engine, "webhook", "http://nurse.example/hook")
    first = gateway_alert()
    await astore(engine, first)
    memory = MemoryNotifier()
    clock = FakeClock(T0 + timedelta(minutes=1))
    d = Dispatcher(session_factory(engine), {"webhook": memory}, clock, "w1")
    await d.run_once()
    with session_factory(engine).begin() as db:
        row = db.get(AlertRow, first.alert_id)
        assert row is not None
        snooze(db, get_workflow(db, first.alert_id), row, Actor("demo", 1), clock.now(), 600)
    second = gateway_alert(at=T0 + timedelta(minutes=2))
    await astore(engine, second, received_at=T0 + timedelta(minutes=2))
    clock.advance(120)
    await d.run_once()
    assert [n.payload["alert_id"] for n in memory.sent] == [first.alert_id]  # second held
    clock.advance(8 * 60 + 1)  # past the 10 min snooze
    await d.run_once()
    assert [n.payload["alert_id"] for n in memory.sent] == [first.alert_id, second.alert_id]
