"""Time as a dependency: loops read ``clock.now()`` so tests can move time by hand."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from vitals.readings import now_utc


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return now_utc()


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)
