"""Ingest worker configuration (a frozen value, built from CLI flags or by tests)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from vitals.topics import TopicKind, shared, subscription

INGEST_GROUP = "ingest"
ALERTS_GROUP = "alerts"


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None


def parse_broker_url(url: str) -> BrokerAddress:
    """``mqtt://[user:pass@]host[:1883]`` or ``mqtts://…[:8883]``."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise ValueError(f"broker URL {url!r} must look like mqtt://host:1883 or mqtts://host:8883")
    tls = parts.scheme == "mqtts"
    return BrokerAddress(
        parts.hostname, parts.port or (8883 if tls else 1883), tls,
        unquote(parts.username) if parts.username else None,
        unquote(parts.password) if parts.password else None,
    )


@dataclass(frozen=True, slots=True)
class IngestConfig:
    worker_id: str  # stable (ingest-0…N-1): the broker keeps this id's session across restarts
    broker: BrokerAddress
    # Long enough to outlive a restart or a deploy; the session holds our share meanwhile.
    session_expiry_s: int = 3600
    # In-flight window the broker may push before we ack (back-pressure; MQTT 5 Receive Maximum).
    # ≈ 2 × a batch in messages (architecture.md §3.9); also bounds what we hold in memory.
    receive_maximum: int = 1000
    # Batching across messages: flush at this many records or this long after the first.
    batch_max_records: int = 5000
    batch_max_delay_s: float = 0.2
    directory_ttl_s: float = 30.0
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0

    def subscriptions(self) -> list[str]:
        return [
            shared(ALERTS_GROUP, subscription(TopicKind.ALERTS)),
            shared(INGEST_GROUP, subscription(TopicKind.READINGS)),
            shared(INGEST_GROUP, subscription(TopicKind.EVENTS)),
            # Not shared: retained statuses (and Last Wills) reach every worker; the
            # presence upsert is idempotent (cloud_api.alerting.presence).
            subscription(TopicKind.STATUS),
        ]
