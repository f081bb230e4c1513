"""Quiet hours: patient-local time windows that delay non-urgent alerts.

Windows are wall-clock times in the patient's own timezone (so they follow DST) and may
cross midnight (``22:00``–``07:00``). Urgent tiers bypass them (clinical.md §2.4).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def parse_hhmm(text: str) -> time:
    m = _HHMM.match(text)
    if not m:
        raise ValueError(f"expected HH:MM (24 h), got {text!r}")
    return time(int(m.group(1)), int(m.group(2)))


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {name!r}") from None


@dataclass(frozen=True, slots=True)
class QuietWindow:
    start: time
    end: time

    @classmethod
    def parse(cls, start: str, end: str) -> QuietWindow:
        window = cls(parse_hhmm(start), parse_hhmm(end))
        if window.start == window.end:
            raise ValueError("quiet-hours window must not be empty (start == end)")
        return window

    def contains(self, local: time) -> bool:
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end  # crosses midnight

    def __str__(self) -> str:
        return f"{self.start:%H:%M}–{self.end:%H:%M}"


def active_window(
    windows: tuple[QuietWindow, ...], tz: str, now: datetime
) -> QuietWindow | None:
    """The quiet window ``now`` falls in (patient-local), if any."""
    if not windows:
        return None
    local = now.astimezone(zone(tz)).time().replace(tzinfo=None)
    return next((w for w in windows if w.contains(local)), None)


def window_end(window: QuietWindow, tz: str, now: datetime) -> datetime:
    """The instant (UTC-aware) at which ``window`` next ends after ``now``."""
    z = zone(tz)
    local = now.astimezone(z)
    end = datetime.combine(local.date(), window.end, tzinfo=z)
    if end <= local:
        end = datetime.combine(local.date() + timedelta(days=1), window.end, tzinfo=z)
    return end


def local_hhmm(at: datetime, tz: str) -> str:
    return at.astimezone(zone(tz)).strftime("%H:%M")
