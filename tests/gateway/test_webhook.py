"""Webhook sink: signed POSTs, retries with backoff, never blocks the caller."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from pathlib import Path

from gateway.outbox import AsyncOutbox
from gateway.webhook import WebhookSettings, WebhookSink, sign
from tests.gateway.gw_factories import alert, bp, until
from tests.gateway.gw_live import WebhookReceiver
from vitals.alerts import Severity


class FlakyPoster:
    """Fails ``failures`` times (transport error, then HTTP 503), then accepts."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: list[tuple[str, bytes, dict[str, str]]] = []

    async def post(self, url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> int:
        self.calls.append((url, body, headers))
        if len(self.calls) <= self.failures:
            if len(self.calls) % 2:
                raise ConnectionRefusedError("no route")
            return 503
        return 204


class StuckPoster:
    async def post(self, url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> int:
        await asyncio.sleep(3600)
        return 204


def test_signature_is_hmac_sha256_over_timestamp_and_body() -> None:
    body = b'{"a":1}'
    expected = hmac.new(b"k", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sign("k", "1700000000", body) == "sha256=" + expected


async def test_retries_with_backoff_until_delivered() -> None:
    poster = FlakyPoster(failures=3)
    sink = WebhookSink(WebhookSettings(url="http://x/", secret="s", backoff_min_s=0.01,
                                       backoff_max_s=0.02), poster)
    task = asyncio.create_task(sink.run())
    await sink.deliver(alert(bp(0, 190)))
    await until(lambda: sink.delivered == 1, within=5)
    task.cancel()
    assert len(poster.calls) == 4
    assert all(c[2]["X-HomeRPM-Signature"].startswith("sha256=") for c in poster.calls)


async def test_deliver_never_waits_for_a_stuck_receiver_and_filters_severity() -> None:
    sink = WebhookSink(WebhookSettings(url="http://x/", max_queue=2), StuckPoster())
    task = asyncio.create_task(sink.run())
    async with asyncio.timeout(1):
        for i in range(5):
            await sink.deliver(alert(bp(i, 190)))
        await sink.deliver(alert(bp(9, 190), Severity.WARNING))  # below urgent: not sent
    task.cancel()
    assert sink.dropped >= 1  # bounded queue: the oldest waiting delivery was dropped


async def test_real_http_receiver_verifies_signature() -> None:
    async with WebhookReceiver("secret") as hook:
        from gateway.webhook import HttpxPoster

        poster = HttpxPoster()
        sink = WebhookSink(WebhookSettings(url=hook.url, secret="secret"), poster)
        task = asyncio.create_task(sink.run())
        a = alert(bp(0, 190))
        await sink.deliver(a)
        await until(lambda: len(hook.received) == 1, within=5)
        task.cancel()
        await poster.aclose()
    assert hook.received[0][1]["msg_id"] == a.msg_id and hook.bad_signatures == 0


async def test_pending_deliveries_survive_a_restart_and_done_ones_do_not_return(
    tmp_path: Path,
) -> None:
    settings = WebhookSettings(url="http://x/", backoff_min_s=0.01)
    sent, stuck = alert(bp(0, 190)), alert(bp(1, 200))
    box = AsyncOutbox(tmp_path / "o.db")
    try:
        first = WebhookSink(settings, FlakyPoster(0), store=box)
        task = asyncio.create_task(first.run())
        await first.deliver(sent)
        await until(lambda: first.delivered == 1)
        first.poster = StuckPoster()  # the receiver hangs; then the gateway stops
        await first.deliver(stuck)
        await until(lambda: first._queue.empty())
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    finally:
        box.close()  # waits for the queued writes
    box = AsyncOutbox(tmp_path / "o.db")
    try:
        second = WebhookSink(settings, poster := FlakyPoster(0), store=box)
        assert await second.restore() == 1
        task = asyncio.create_task(second.run())
        await until(lambda: second.delivered == 1)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert [json.loads(c[1])["msg_id"] for c in poster.calls] == [stuck.msg_id]
        assert await box.webhook_pending() == []  # runs after the queued "done"
    finally:
        box.close()
