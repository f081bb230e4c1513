"""MQTT topic names, built and parsed in exactly one place.

``homerpm/v1/{gateway}/up/{readings|alerts|events}``, ``…/{gateway}/status``,
``…/{gateway}/ack`` and ``…/{gateway}/down/config``. Gateway ids are opaque; no patient
identifier ever appears in a topic (topics land in broker logs and ACL decisions).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

PREFIX = "homerpm/v1"
_GATEWAY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


class TopicKind(StrEnum):
    READINGS = "up/readings"
    ALERTS = "up/alerts"
    EVENTS = "up/events"
    STATUS = "status"
    ACK = "ack"
    CONFIG = "down/config"


class TopicError(ValueError):
    """A topic that is not one of ours, or a malformed gateway id."""


def check_gateway_id(gateway: str) -> str:
    if not _GATEWAY_RE.match(gateway):
        raise TopicError(
            f"gateway id {gateway!r} must be 1-64 characters of letters, digits, '-' or '_'"
        )
    return gateway


def topic(gateway: str, kind: TopicKind) -> str:
    return f"{PREFIX}/{check_gateway_id(gateway)}/{kind.value}"


def subscription(kind: TopicKind, gateway: str = "+") -> str:
    """A subscription filter for ``kind`` on one gateway or all (``+``)."""
    if gateway != "+":
        check_gateway_id(gateway)
    return f"{PREFIX}/{gateway}/{kind.value}"


def shared(group: str, filter_: str) -> str:
    """An MQTT 5 shared-subscription filter (``$share/group/filter``)."""
    return f"$share/{group}/{filter_}"


@dataclass(frozen=True, slots=True)
class ParsedTopic:
    gateway: str
    kind: TopicKind


def parse(name: str) -> ParsedTopic:
    if not name.startswith(PREFIX + "/"):
        raise TopicError(f"topic {name!r} is not under {PREFIX}/")
    gateway, _, rest = name[len(PREFIX) + 1 :].partition("/")
    try:
        kind = TopicKind(rest)
    except ValueError:
        raise TopicError(f"topic {name!r}: unknown kind {rest!r}") from None
    return ParsedTopic(check_gateway_id(gateway), kind)
