"""The delivery seam: a :class:`Notifier` per channel, plus the in-memory one for tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


class DeliveryFailed(Exception):
    def __init__(self, reason: str, *, retryable: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


@dataclass(frozen=True, slots=True)
class Notification:
    """One message to one recipient about one alert event."""

    key: str  # "<activity id>:<recipient>:<channel>" — receivers may dedupe on it
    channel: str
    address: str  # webhook URL or e-mail address
    secret: str | None
    payload: dict[str, Any] = field(hash=False)


class Notifier(Protocol):
    async def send(self, notification: Notification) -> None:
        """Deliver or raise :class:`DeliveryFailed`."""
        ...


class MemoryNotifier:
    """Collects notifications; ``fail_first`` makes the first N sends fail (retry tests)."""

    def __init__(self, fail_first: int = 0) -> None:
        self.sent: list[Notification] = []
        self.attempts = 0
        self._fail_first = fail_first

    async def send(self, notification: Notification) -> None:
        self.attempts += 1
        if self.attempts <= self._fail_first:
            raise DeliveryFailed("simulated failure")
        self.sent.append(notification)
