"""Retained gateway configs: build, stage, publish (QoS 1, retain) and retry.

The config of a gateway is a ``vitals.wire.ConfigMessage`` whose body carries the rules
configuration of all its patients (``{"rules": {"patients": {id: context}}}``, the shape
``edge_rules.config.parse_rules_config`` validates). Staging writes it to ``config_pushes``
as *pending* in the caller's transaction; publishing happens after commit and marks it
*published*, or records the error and leaves it pending for :func:`retry_pending`.
"""

from __future__ import annotations

import logging
from typing import Protocol

import aiomqtt
import anyio.to_thread
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cloud_api.db.access_models import ConfigPush
from cloud_api.db.models import Gateway
from cloud_api.db.thresholds import patient_context
from cloud_api.ingest.config import BrokerAddress
from vitals.readings import now_utc
from vitals.topics import TopicKind, topic
from vitals.wire import ConfigMessage, encode

log = logging.getLogger(__name__)


class ConfigPublisher(Protocol):
    async def publish(self, gateway_id: str, payload: bytes) -> None: ...


class MqttConfigPublisher:
    """Connects per publish: config changes are rare, and no idle connection can go stale."""

    def __init__(self, broker: BrokerAddress, timeout_s: float = 10.0) -> None:
        self.broker = broker
        self.timeout_s = timeout_s

    async def publish(self, gateway_id: str, payload: bytes) -> None:
        async with aiomqtt.Client(
            self.broker.host, self.broker.port, username=self.broker.username,
            password=self.broker.password, identifier=f"{self.broker.username or 'api'}-config",
            protocol=aiomqtt.ProtocolVersion.V5, timeout=self.timeout_s,
            tls_params=aiomqtt.TLSParameters() if self.broker.tls else None,
        ) as client:
            await client.publish(topic(gateway_id, TopicKind.CONFIG), payload, qos=1, retain=True,
                                 timeout=self.timeout_s)


class MemoryConfigPublisher:
    """For unit tests: remembers the last payload per gateway; can be told to fail."""

    def __init__(self) -> None:
        self.retained: dict[str, bytes] = {}
        self.fail: Exception | None = None

    async def publish(self, gateway_id: str, payload: bytes) -> None:
        if self.fail is not None:
            raise self.fail
        self.retained[gateway_id] = payload


def stage(db: Session, gateway: Gateway) -> ConfigPush:
    """Build the gateway's config from the newest threshold versions and mark it pending."""
    push = db.get(ConfigPush, gateway.id)
    version = (push.version + 1) if push else 1
    patients = {pid: patient_context(db, pid) for pid in sorted(p.id for p in gateway.patients)}
    message = ConfigMessage(version=version, issued_at=now_utc(),
                            body={"rules": {"patients": patients}})
    payload = encode(message).decode()
    if push is None:
        push = ConfigPush(gateway_id=gateway.id, version=version, payload=payload,
                          status="pending", attempts=0, updated_at=now_utc())
        db.add(push)
    else:
        push.version, push.payload, push.status = version, payload, "pending"
        push.attempts, push.last_error, push.updated_at = 0, None, now_utc()
    db.flush()
    return push


def _staged(sessions: sessionmaker[Session], gateway_id: str) -> tuple[int, str] | None:
    with sessions() as db:
        push = db.get(ConfigPush, gateway_id)
        if push is None or push.status == "published":
            return None
        return push.version, push.payload


def _settle(sessions: sessionmaker[Session], gateway_id: str, version: int,
            error: str | None) -> ConfigPush | None:
    with sessions.begin() as db:
        push = db.get(ConfigPush, gateway_id)
        if push is None or push.version != version:
            return push  # a newer config was staged meanwhile; it gets its own delivery
        push.attempts += 1
        push.updated_at = now_utc()
        if error is None:
            push.status, push.last_error, push.published_at = "published", None, now_utc()
        else:
            push.last_error = error[:500]
        return push


async def deliver(sessions: sessionmaker[Session], publisher: ConfigPublisher | None,
                  gateway_id: str) -> ConfigPush | None:
    """Publish the staged config; record the outcome. Never raises for broker trouble.

    Database work runs in worker threads: a blocking SQLite lock wait on the event loop
    would stall every request (and the request holding the lock could never finish)."""
    staged = await anyio.to_thread.run_sync(_staged, sessions, gateway_id)
    if staged is None:
        return None
    version, payload = staged
    error: str | None = None
    if publisher is None:
        error = "no broker configured for config pushes (HOMERPM_CONFIG_MQTT_URL)"
    else:
        try:
            await publisher.publish(gateway_id, payload.encode())
        except (aiomqtt.MqttError, OSError, TimeoutError) as exc:
            error = f"{type(exc).__name__}: {exc}"
    if error is not None:
        level = logging.INFO if publisher is None else logging.WARNING
        log.log(level, "config v%d for %s not published: %s", version, gateway_id, error)
    return await anyio.to_thread.run_sync(_settle, sessions, gateway_id, version, error)


def _pending(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as db:
        return list(db.scalars(select(ConfigPush.gateway_id)
                               .where(ConfigPush.status == "pending")))


async def retry_pending(sessions: sessionmaker[Session], publisher: ConfigPublisher | None) -> int:
    """Try every pending push once; return how many are published now."""
    pending = await anyio.to_thread.run_sync(_pending, sessions)
    done = 0
    for gateway_id in pending:
        push = await deliver(sessions, publisher, gateway_id)
        done += push is not None and push.status == "published"
    return done
