"""Wire protocol v1: the JSON messages gateways and the cloud exchange over MQTT.

Every message is one JSON object with ``"v": 1`` and a ``type``. Uplink messages are
batches (``items``); each reading or alert in a batch carries its own ULID ``msg_id``
minted at capture, so retries and redeliveries are recognisable. Both sides validate
with the same models; :func:`decode` turns anything malformed into a :class:`WireError`
whose message says what is wrong, without leaking a traceback.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter, ValidationError

from vitals.alerts import Alert
from vitals.readings import Frozen, Reading, UtcDatetime
from vitals.status import GatewayStatus

VERSION: Literal[1] = 1
MAX_BATCH = 1000
MAX_PAYLOAD_BYTES = 4 * 1024 * 1024


class WireError(ValueError):
    """A message that cannot be accepted; ``reason`` is short and human readable."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Envelope(Frozen):
    v: Literal[1] = VERSION
    gateway: str = Field(min_length=1, max_length=64)
    sent_at: UtcDatetime


class ReadingsBatch(Envelope):
    type: Literal["readings"] = "readings"
    items: tuple[Reading, ...] = Field(min_length=1, max_length=MAX_BATCH)


class AlertsBatch(Envelope):
    type: Literal["alerts"] = "alerts"
    items: tuple[Alert, ...] = Field(min_length=1, max_length=MAX_BATCH)


class GatewayEvent(Frozen):
    """Something worth keeping that is not a reading: a decode error, a pairing, a reset."""

    msg_id: str
    at: UtcDatetime
    code: str = Field(min_length=1, max_length=64, description="e.g. decode_error, meter_reset")
    device: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict)
    simulated: bool = False


class EventsBatch(Envelope):
    type: Literal["events"] = "events"
    items: tuple[GatewayEvent, ...] = Field(min_length=1, max_length=MAX_BATCH)


class StatusMessage(Frozen):
    v: Literal[1] = VERSION
    type: Literal["status"] = "status"
    status: GatewayStatus


class Ack(Frozen):
    """Cloud → gateway: these msg_ids are durably stored (or dead-lettered) and may be deleted."""

    v: Literal[1] = VERSION
    type: Literal["ack"] = "ack"
    msg_ids: tuple[str, ...] = Field(min_length=1, max_length=10 * MAX_BATCH)


class ConfigMessage(Frozen):
    """Cloud → gateway retained configuration; ``body`` is validated by the gateway."""

    v: Literal[1] = VERSION
    type: Literal["config"] = "config"
    version: int = Field(ge=1)
    issued_at: UtcDatetime
    body: dict[str, Any]


Message = Annotated[
    ReadingsBatch | AlertsBatch | EventsBatch | StatusMessage | Ack | ConfigMessage,
    Field(discriminator="type"),
]
_MESSAGE: TypeAdapter[Message] = TypeAdapter(Message)


def encode(message: Message) -> bytes:
    """Serialise a message to compact UTF-8 JSON."""
    return message.model_dump_json(exclude_none=True).encode()


def decode(payload: bytes | str) -> Message:
    """Parse and validate one message; raise :class:`WireError` with the reason."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise WireError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD_BYTES}")
    try:
        return _MESSAGE.validate_json(payload)
    except ValidationError as exc:
        raise WireError(_summarise(exc)) from None


def _summarise(exc: ValidationError, limit: int = 3) -> str:
    parts = []
    for err in exc.errors(include_url=False)[:limit]:
        where = ".".join(str(p) for p in err["loc"]) or "message"
        parts.append(f"{where}: {err['msg']}")
    more = exc.error_count() - limit
    if more > 0:
        parts.append(f"(+{more} more)")
    return "; ".join(parts)


# --- Lenient batch decoding (for receivers that must keep good items next to bad ones) ---

_ITEM_ADAPTERS: dict[str, TypeAdapter[Any]] = {
    "readings": TypeAdapter(Reading),
    "alerts": TypeAdapter(Alert),
    "events": TypeAdapter(GatewayEvent),
}


class _BatchHead(Frozen):
    """A batch envelope whose items are not validated yet."""

    v: Literal[1]
    type: Literal["readings", "alerts", "events"]
    gateway: str = Field(min_length=1, max_length=64)
    sent_at: UtcDatetime
    items: list[Any] = Field(min_length=1, max_length=MAX_BATCH)


class _AllGood(Frozen):
    """A batch whose items all validate: one pass in pydantic-core instead of one per item.

    Same envelope rules as ``_BatchHead`` and the same item schemas (JSON input validates like
    the Python values it parses to), so success here means every item would pass one by one.
    """

    v: Literal[1]
    gateway: str = Field(min_length=1, max_length=64)
    sent_at: UtcDatetime


class _ReadingsAllGood(_AllGood):
    type: Literal["readings"]
    items: list[Reading] = Field(min_length=1, max_length=MAX_BATCH)


class _AlertsAllGood(_AllGood):
    type: Literal["alerts"]
    items: list[Alert] = Field(min_length=1, max_length=MAX_BATCH)


class _EventsAllGood(_AllGood):
    type: Literal["events"]
    items: list[GatewayEvent] = Field(min_length=1, max_length=MAX_BATCH)


_ALL_GOOD: TypeAdapter[_ReadingsAllGood | _AlertsAllGood | _EventsAllGood] = TypeAdapter(
    Annotated[_ReadingsAllGood | _AlertsAllGood | _EventsAllGood, Field(discriminator="type")]
)


@dataclass(frozen=True, slots=True)
class BadItem:
    """One batch item that failed validation, kept as received."""

    index: int
    raw: bytes  # the item re-serialised as compact JSON
    reason: str
    msg_id: str | None  # when the item carries a string msg_id, so it can still be acked


@dataclass(frozen=True, slots=True)
class DecodedBatch:
    type: Literal["readings", "alerts", "events"]
    gateway: str
    sent_at: datetime
    good: tuple[Any, ...]  # Reading | Alert | GatewayEvent, per ``type``
    bad: tuple[BadItem, ...]


def decode_batch_items(payload: bytes | str) -> DecodedBatch:
    """Validate a batch's envelope strictly and its items one by one.

    Raises :class:`WireError` when the envelope itself is unusable (not JSON, wrong
    version, not a batch type, no gateway); otherwise every item ends in ``good`` or
    ``bad`` so one broken reading never costs the valid ones beside it.
    """
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise WireError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD_BYTES}")
    try:  # the common case first: nothing wrong anywhere
        whole = _ALL_GOOD.validate_json(payload)
    except ValidationError:
        pass  # find out what is wrong, item by item, below
    else:
        return DecodedBatch(whole.type, whole.gateway, whole.sent_at, tuple(whole.items), ())
    return _decode_item_by_item(payload)


def _decode_item_by_item(payload: bytes | str) -> DecodedBatch:
    try:
        head = _BatchHead.model_validate_json(payload)
    except ValidationError as exc:
        raise WireError(_summarise(exc)) from None
    adapter = _ITEM_ADAPTERS[head.type]
    good: list[Any] = []
    bad: list[BadItem] = []
    for index, item in enumerate(head.items):
        try:
            good.append(adapter.validate_python(item))
        except ValidationError as exc:
            msg_id = item.get("msg_id") if isinstance(item, dict) else None
            bad.append(BadItem(
                index, json.dumps(item, separators=(",", ":")).encode(),
                f"items.{index}: {_summarise(exc)}",
                msg_id if isinstance(msg_id, str) and 0 < len(msg_id) <= 64 else None,
            ))
    return DecodedBatch(head.type, head.gateway, head.sent_at, tuple(good), tuple(bad))
