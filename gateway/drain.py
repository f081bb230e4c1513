"""Move rows from the outbox to the uplink, and apply the cloud's acks.

:class:`Drainer` leases due rows in (priority, seq) order, packs them into batch
messages (alerts first), and publishes them with a bounded window of publishes in
flight: the MQTT client never holds more than ``window`` messages, the outbox holds
the rest. PUBACK → ``mark_published`` (resend after the timeout); failure → ``release``
(due again now). Rows are deleted only by :class:`AckHandler` when the cloud's
:class:`vitals.wire.Ack` names them.

Backlog drain is rate-limited in messages per second (a fleet of gateways coming back
after a cloud outage must not stampede the ingest tier), and it stops leasing while
more than ``max_unacked`` rows are published but not yet acked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from gateway.batches import Batch, build_batches
from gateway.outbox import AsyncOutbox, now_ms
from gateway.uplink import Uplink, UplinkError
from vitals import topics
from vitals.wire import Ack, ConfigMessage, WireError, decode

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DrainSettings:
    batch_max_items: int = 200
    batch_max_bytes: int = 256 * 1024
    fetch_rows: int = 1000
    window: int = 8
    max_messages_per_s: float = 50.0
    max_unacked: int = 20_000
    idle_poll_s: float = 1.0
    #: after each (re)connect, unacked rows are sent again this much later (the acks
    #: queued for us in the broker session arrive first and spare those resends)
    resend_after_connect_s: float = 2.0


class RateLimiter:
    """Token bucket: ``rate`` tokens per second, bursts up to one second's worth."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self._tokens = rate
        self._last = time.monotonic()

    async def take(self) -> None:
        if self.rate <= 0:
            return
        while True:
            now = time.monotonic()
            self._tokens = min(self.rate, self._tokens + (now - self._last) * self.rate)
            self._last = now
            if self._tokens >= 1:
                self._tokens -= 1
                return
            await asyncio.sleep((1 - self._tokens) / self.rate)


class Drainer:
    def __init__(
        self, gateway: str, outbox: AsyncOutbox, uplink: Uplink, settings: DrainSettings
    ) -> None:
        self.gateway = gateway
        self.outbox = outbox
        self.uplink = uplink
        self.settings = settings
        self._wake = asyncio.Event()
        self._limiter = RateLimiter(settings.max_messages_per_s)
        self.published_messages = 0
        self.published_rows = 0
        self._inflight_rows = 0

    def notify(self) -> None:
        """New rows are in the outbox: drain now rather than at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        s = self.settings
        window = asyncio.Semaphore(s.window)
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self._resend_after_connects(), name="resend-after-connect")
            while True:
                await self.uplink.wait_connected()
                # Rows in flight count too: they will be unacked a moment from now.
                full = bool(s.max_unacked) and (
                    await self.outbox.unacked() + self._inflight_rows >= s.max_unacked)
                rows = await self.outbox.next_batch(s.fetch_rows, resend_only=full)
                if not rows:
                    await self._idle()
                    continue
                batches = build_batches(self.gateway, rows, datetime.now(UTC),
                                        s.batch_max_items, s.batch_max_bytes)
                for i, batch in enumerate(batches):
                    if not self.uplink.connected:
                        # Give the leased rows back at once instead of waiting out the lease.
                        await self.outbox.release([m for b in batches[i:] for m in b.msg_ids])
                        break
                    await self._limiter.take()
                    await window.acquire()
                    self._inflight_rows += len(batch.msg_ids)
                    tg.create_task(self._publish(batch, window))

    async def _resend_after_connects(self) -> None:
        """Rows published before a (re)connect and still unacked go out again shortly
        after it, not only when their resend timer fires: a batch the broker PUBACKed
        may never have reached the cloud (mosquitto drops messages for a shared
        subscription whose worker is reconnecting; a session may have expired with our
        acks in it)."""
        while True:
            await self.uplink.wait_connected()
            connected_at = now_ms()
            await asyncio.sleep(self.settings.resend_after_connect_s)
            if self.uplink.connected:
                n = await self.outbox.resend_unacked(published_before=connected_at)
                if n:
                    log.info("connected: re-sending %d unacked rows", n)
                    self.notify()
            await self.uplink.wait_disconnected()

    async def _idle(self) -> None:
        self._wake.clear()
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for can lose a cancellation
        # that arrives as the awaited future completes (CPython gh-86296), hanging shutdown.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.settings.idle_poll_s):
                await self._wake.wait()

    async def _publish(self, batch: Batch, window: asyncio.Semaphore) -> None:
        try:
            await self.uplink.publish(batch.topic, batch.payload)
        except UplinkError as exc:
            log.info("publish of %d %s rows failed (%s); will retry", len(batch.msg_ids),
                     batch.kind, exc)
            await self.outbox.release(batch.msg_ids)
            self.notify()
        else:
            await self.outbox.mark_published(batch.msg_ids)
            self.published_messages += 1
            self.published_rows += len(batch.msg_ids)
        finally:
            self._inflight_rows -= len(batch.msg_ids)
            window.release()


class AckHandler:
    """Consume inbound messages: acks delete rows; config is stored (applied later)."""

    def __init__(
        self, gateway: str, outbox: AsyncOutbox, uplink: Uplink,
        on_config: Callable[[ConfigMessage, bytes, str], Awaitable[object]] | None = None,
    ) -> None:
        self.gateway = gateway
        self.on_config = on_config
        self.outbox = outbox
        self.uplink = uplink
        self.acked = 0
        self.config: ConfigMessage | None = None

    async def run(self) -> None:
        async for msg in self.uplink.inbound():
            await self.handle(msg.topic, msg.payload)

    async def handle(self, topic: str, payload: bytes) -> None:
        try:
            parsed = topics.parse(topic)
            if parsed.gateway != self.gateway:
                raise WireError(f"message for gateway {parsed.gateway!r}, we are {self.gateway!r}")
            message = decode(payload)
        except (WireError, topics.TopicError) as exc:
            log.warning("rejected inbound message on %s: %s", topic, exc)
            await self.outbox.record_reject(topic, str(exc), payload)
            return
        if isinstance(message, Ack) and parsed.kind is topics.TopicKind.ACK:
            self.acked += await self.outbox.ack(message.msg_ids)
        elif isinstance(message, ConfigMessage) and parsed.kind is topics.TopicKind.CONFIG:
            # The last one received is kept as is; the applier validates and applies it.
            await self.outbox.set_meta("down_config", message.model_dump_json())
            self.config = message
            log.info("received config version %d", message.version)
            if self.on_config is not None:
                await self.on_config(message, payload, topic)
        else:
            reason = f"unexpected {message.type} message on {parsed.kind.value}"
            log.warning("rejected inbound message on %s: %s", topic, reason)
            await self.outbox.record_reject(topic, reason, payload)
