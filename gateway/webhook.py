"""Local sink: POST each alert as JSON to a webhook in the home (or a family service).

``deliver`` only enqueues, so a slow or dead receiver never blocks the pipeline; the
sender task (owned by the app's TaskGroup) posts in order and retries with exponential
backoff (1 s doubling up to ``backoff_max_s``, ``max_attempts`` tries). With a ``store``
(the outbox file, table ``webhook``) each delivery is also written down when it is
queued and crossed out when it is done (delivered, refused or given up): deliveries
still pending at a restart or a crash are sent on the next start (:meth:`restore`),
so the receiver may see an alert twice — dedupe by its ``msg_id``. The sending itself
starts from memory at once; it does not wait for that write. Bounded: beyond
``max_queue`` the oldest waiting delivery is dropped (and logged).

Signature: ``X-HomeRPM-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body)>``
with ``X-HomeRPM-Timestamp`` (Unix seconds), so the receiver can reject forgeries and
replays. The HTTP client is behind :class:`Poster` (httpx in production, a fake in tests).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from dataclasses import dataclass
from typing import Protocol

from gateway.outbox import AsyncOutbox
from vitals.alerts import Alert, Severity

log = logging.getLogger(__name__)


class Poster(Protocol):
    async def post(self, url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> int:
        """POST and return the HTTP status; raise OSError-like errors on transport failure."""
        ...


class HttpxPoster:
    """The real client (httpx is imported only when a webhook is configured)."""

    def __init__(self) -> None:
        import httpx

        self._client = httpx.AsyncClient()

    async def post(self, url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> int:
        response = await self._client.post(url, content=body, headers=headers, timeout=timeout_s)
        return response.status_code

    async def aclose(self) -> None:
        await self._client.aclose()


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


@dataclass(frozen=True)
class WebhookSettings:
    url: str
    secret: str | None = None
    timeout_s: float = 5.0
    backoff_min_s: float = 1.0
    backoff_max_s: float = 300.0
    max_attempts: int = 20
    max_queue: int = 1000
    min_severity: Severity = Severity.URGENT


class WebhookSink:
    def __init__(
        self, settings: WebhookSettings, poster: Poster, store: AsyncOutbox | None = None
    ) -> None:
        self.settings = settings
        self.poster = poster
        self.store = store
        self._queue: asyncio.Queue[Alert] = asyncio.Queue()
        self.delivered = 0
        self.failed = 0
        self.dropped = 0

    async def restore(self) -> int:
        """Queue the deliveries a previous run left pending; returns how many."""
        if self.store is None:
            return 0
        pending = [Alert.model_validate_json(p) for p in await self.store.webhook_pending()]
        for alert in pending:
            self._enqueue(alert)
        if pending:
            log.info("webhook: %d deliveries pending from the last run", len(pending))
        return len(pending)

    async def deliver(self, alert: Alert) -> None:
        if alert.severity < self.settings.min_severity:
            return
        if self.store is not None:
            # Queued on the outbox thread behind the alert's own transaction; not awaited.
            self.store.begin_webhook_put(alert.msg_id, alert.model_dump_json(exclude_none=True))
        self._enqueue(alert)

    def _enqueue(self, alert: Alert) -> None:
        if self._queue.qsize() >= self.settings.max_queue:
            old = self._queue.get_nowait()
            self.dropped += 1
            log.error("webhook queue full: dropping delivery of alert %s", old.msg_id)
            self._done(old)
        self._queue.put_nowait(alert)

    def _done(self, alert: Alert) -> None:
        if self.store is not None:
            self.store.begin_webhook_done(alert.msg_id)

    def headers(self, body: bytes) -> dict[str, str]:
        ts = str(int(time.time()))
        h = {"Content-Type": "application/json", "X-HomeRPM-Timestamp": ts,
             "User-Agent": "homerpm-gateway"}
        if self.settings.secret:
            h["X-HomeRPM-Signature"] = sign(self.settings.secret, ts, body)
        return h

    async def run(self) -> None:
        while True:
            alert = await self._queue.get()
            await self._send(alert)
            self._done(alert)  # delivered, refused or given up: not again after a restart

    async def _send(self, alert: Alert) -> None:
        s = self.settings
        body = alert.model_dump_json(exclude_none=True).encode()
        delay = s.backoff_min_s
        for attempt in range(1, s.max_attempts + 1):
            try:
                status = await self.poster.post(s.url, body, self.headers(body), s.timeout_s)
                if 200 <= status < 300:
                    self.delivered += 1
                    return
                problem = f"HTTP {status}"
                if 400 <= status < 500 and status not in (408, 429):
                    log.error("webhook refused alert %s: %s (not retried)", alert.msg_id, problem)
                    self.failed += 1
                    return
            except Exception as exc:  # any transport failure: retry
                problem = repr(exc)[:200]
            log.warning("webhook delivery of %s failed (attempt %d): %s; retry in %.0f s",
                        alert.msg_id, attempt, problem, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, s.backoff_max_s)
        self.failed += 1
        log.error("webhook: gave up on alert %s after %d attempts", alert.msg_id, s.max_attempts)
