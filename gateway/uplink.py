"""The MQTT link to the cloud, behind the small :class:`Uplink` protocol.

:class:`MqttUplink` (aiomqtt 2.5.1, MQTT v5) keeps one connection alive: persistent
session (``clean_start=False`` + session expiry, so acks sent while we were away are
queued for us), client id = gateway id, a retained ``online`` status after every
CONNACK and a retained ``offline`` Last Will (with a will delay so quick reconnects
don't flap), jittered exponential backoff between attempts, and QoS 1 subscriptions to
our own ``…/ack`` and ``…/down/config``.

It is deliberately *not* a buffer: :meth:`MqttUplink.publish` fails fast with
:class:`UplinkError` when there is no connection, and a publish in flight when the
connection drops fails at once instead of sitting in paho's in-memory queue. The outbox
is the only buffer. :class:`MemoryUplink` is the in-memory twin for unit tests.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

log = logging.getLogger(__name__)


class UplinkError(Exception):
    """Not connected, the connection dropped, or the broker refused the publish."""


@dataclass(frozen=True, slots=True)
class Inbound:
    topic: str
    payload: bytes


class Uplink(Protocol):
    @property
    def connected(self) -> bool: ...

    async def wait_connected(self) -> None:
        """Return once a connection is up (immediately if it is)."""

    async def wait_disconnected(self) -> None:
        """Return once the connection is down (immediately if it is)."""

    async def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        """QoS 1; returns on PUBACK, raises :class:`UplinkError` otherwise."""

    def inbound(self) -> AsyncIterator[Inbound]:
        """Messages arriving on our subscriptions, across reconnects."""
        ...


@dataclass(frozen=True, slots=True)
class MqttSettings:
    host: str
    port: int
    client_id: str
    status_topic: str
    subscriptions: tuple[str, ...]
    username: str | None = None
    password: str | None = None
    tls: bool = False
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    keepalive_s: int = 30
    session_expiry_s: int = 7 * 24 * 3600
    will_delay_s: int = 60
    reconnect_min_s: float = 0.5
    reconnect_max_s: float = 30.0
    publish_timeout_s: float = 15.0
    max_inflight: int = 32


def backoff_delays(
    min_s: float, max_s: float, rng: random.Random | None = None
) -> AsyncIterator[float]:
    """Full-jitter exponential backoff: uniform(min, min·2^n) capped at ``max_s``."""
    rng = rng or random.Random()

    async def gen() -> AsyncIterator[float]:
        ceiling = min_s
        while True:
            yield rng.uniform(min_s, ceiling)
            ceiling = min(max_s, ceiling * 2)

    return gen()


def _reraise_if_cancelling() -> None:
    """A task being cancelled must end, even if aiomqtt turned the cancellation into an
    MqttError (its graceful disconnect timed out) or swallowed it (3.11 ``wait_for``)."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def _consume_result(fut: asyncio.Future[None]) -> None:
    if not fut.cancelled():
        fut.exception()  # retrieved, so asyncio doesn't log "never retrieved"


def consume_disconnect_error(client: aiomqtt.Client) -> None:
    """aiomqtt 2.5.1 stores an unexpected disconnect as an exception on a private future
    that nobody retrieves, so asyncio logs "Future exception was never retrieved" at
    garbage collection — an ERROR line after every broker outage. We already logged it."""
    fut = getattr(client, "_disconnected", None)
    if isinstance(fut, asyncio.Future) and fut.done() and not fut.cancelled():
        fut.exception()


class MqttUplink:
    """Run :meth:`run` in the app's TaskGroup; call :meth:`go_offline` before cancelling it."""

    def __init__(
        self,
        settings: MqttSettings,
        online_payload: Callable[[], bytes],
        offline_payload: Callable[[], bytes],
    ) -> None:
        self.settings = settings
        self._online = online_payload
        self._offline = offline_payload
        self._client: aiomqtt.Client | None = None
        self._lost: asyncio.Future[None] | None = None
        self._up = asyncio.Event()
        self._down = asyncio.Event()
        self._down.set()
        self._inbox: asyncio.Queue[Inbound] = asyncio.Queue(maxsize=1000)
        self.connects = 0

    @property
    def connected(self) -> bool:
        return self._up.is_set()

    async def wait_connected(self) -> None:
        await self._up.wait()

    async def wait_disconnected(self) -> None:
        await self._down.wait()

    def _make_client(self) -> aiomqtt.Client:
        s = self.settings
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = s.session_expiry_s
        will_props = Properties(PacketTypes.WILLMESSAGE)  # type: ignore[no-untyped-call]
        will_props.WillDelayInterval = s.will_delay_s
        tls = None
        if s.tls:
            tls = aiomqtt.TLSParameters(
                ca_certs=s.ca_file, certfile=s.cert_file, keyfile=s.key_file)
        client = aiomqtt.Client(
            s.host, s.port,
            identifier=s.client_id,
            username=s.username, password=s.password,
            protocol=aiomqtt.ProtocolVersion.V5,
            clean_start=False,
            properties=props,
            keepalive=s.keepalive_s,
            will=aiomqtt.Will(s.status_topic, self._offline(), qos=1, retain=True,
                              properties=will_props),
            tls_params=tls,
            max_inflight_messages=s.max_inflight,
            timeout=s.publish_timeout_s,
        )
        # Pipelined publishes are normal here, not a warning sign.
        client.pending_calls_threshold = s.max_inflight + 16
        return client

    async def run(self) -> None:
        """Keep a connection up forever, reconnecting with jittered backoff."""
        s = self.settings
        delays = backoff_delays(s.reconnect_min_s, s.reconnect_max_s)
        while True:
            # Python 3.11's wait_for (used inside aiomqtt) can swallow a cancellation that
            # races with a completing operation; cancelling() still remembers it.
            _reraise_if_cancelling()
            client = self._make_client()
            try:
                async with client:
                    self._client = client
                    self._lost = asyncio.get_running_loop().create_future()
                    for sub in s.subscriptions:
                        await client.subscribe(sub, qos=1)
                    await client.publish(s.status_topic, self._online(), qos=1, retain=True)
                    self.connects += 1
                    self._down.clear()
                    self._up.set()
                    log.info("connected to %s:%d as %s", s.host, s.port, s.client_id)
                    delays = backoff_delays(s.reconnect_min_s, s.reconnect_max_s)
                    async for msg in client.messages:
                        payload = msg.payload if isinstance(msg.payload, bytes) else (
                            str(msg.payload).encode() if msg.payload is not None else b"")
                        await self._inbox.put(Inbound(str(msg.topic), payload))
                problem = "connection closed"
            except aiomqtt.MqttError as exc:
                _reraise_if_cancelling()
                problem = str(exc)
            finally:
                self._mark_down()
                consume_disconnect_error(client)
            delay = await anext(delays)
            log.warning("MQTT connection to %s:%d: %s; retrying in %.1f s",
                        s.host, s.port, problem, delay)
            await asyncio.sleep(delay)

    def _mark_down(self) -> None:
        self._up.clear()
        self._down.set()
        self._client = None
        if self._lost is not None and not self._lost.done():
            self._lost.set_result(None)

    async def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        client, lost = self._client, self._lost
        if client is None or lost is None or lost.done():
            raise UplinkError("not connected")
        pub = asyncio.ensure_future(client.publish(topic, payload, qos=1, retain=retain))
        try:
            await asyncio.wait({pub, lost}, return_when=asyncio.FIRST_COMPLETED)
            if not pub.done():
                raise UplinkError("connection lost before PUBACK")
            try:
                pub.result()
            except aiomqtt.MqttError as exc:
                raise UplinkError(f"publish failed: {exc}") from exc
        finally:
            if not pub.done():
                pub.cancel()
                # Don't await it: that could swallow a cancellation aimed at us.
                pub.add_done_callback(_consume_result)

    async def go_offline(self) -> None:
        """Graceful shutdown: publish the retained offline status (a clean DISCONNECT
        suppresses the Last Will, so nobody else would)."""
        if self.connected:
            try:
                async with asyncio.timeout(5):  # not wait_for: see Drainer._idle
                    await self.publish(self.settings.status_topic, self._offline(), retain=True)
            except (UplinkError, TimeoutError) as exc:
                log.warning("could not publish offline status: %s", exc)

    async def inbound(self) -> AsyncIterator[Inbound]:
        while True:
            yield await self._inbox.get()


@dataclass
class MemoryUplink:
    """In-memory uplink for unit tests: records publishes, injects inbound messages."""

    is_up: bool = True
    published: list[tuple[str, bytes, bool]] = field(default_factory=list)
    on_publish: Callable[[str, bytes], None] | None = None
    fail_publishes: int = 0
    _inbox: asyncio.Queue[Inbound] = field(default_factory=asyncio.Queue)
    _up: asyncio.Event = field(default_factory=asyncio.Event)
    _down: asyncio.Event = field(default_factory=asyncio.Event)
    connects: int = 0

    def __post_init__(self) -> None:
        self.set_connected(self.is_up)

    @property
    def connected(self) -> bool:
        return self._up.is_set()

    def set_connected(self, up: bool) -> None:
        if up and not self._up.is_set():
            self.connects += 1
        self.is_up = up
        if up:
            self._down.clear()
            self._up.set()
        else:
            self._up.clear()
            self._down.set()

    async def wait_connected(self) -> None:
        await self._up.wait()

    async def wait_disconnected(self) -> None:
        await self._down.wait()

    async def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        await asyncio.sleep(0)
        if not self.connected:
            raise UplinkError("not connected")
        if self.fail_publishes > 0:
            self.fail_publishes -= 1
            raise UplinkError("injected failure")
        self.published.append((topic, payload, retain))
        if self.on_publish is not None:
            self.on_publish(topic, payload)

    def deliver(self, topic: str, payload: bytes) -> None:
        self._inbox.put_nowait(Inbound(topic, payload))

    async def inbound(self) -> AsyncIterator[Inbound]:
        while True:
            yield await self._inbox.get()

    def topics(self) -> Sequence[str]:
        return [t for t, _, _ in self.published]
