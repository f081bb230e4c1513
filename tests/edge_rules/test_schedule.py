"""Quiet-hours windows: across midnight, in the patient's timezone, through DST."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from edge_rules.schedule import QuietWindow, active_window, window_end

NIGHT = QuietWindow.parse("22:00", "07:00")
LUNCH = QuietWindow.parse("12:00", "13:30")


@pytest.mark.parametrize(
    ("local", "inside"),
    [
        ("21:59", False),
        ("22:00", True),
        ("23:59", True),
        ("00:00", True),
        ("06:59", True),
        ("07:00", False),
        ("12:00", False),
    ],
)
def test_window_across_midnight(local: str, inside: bool) -> None:
    h, m = map(int, local.split(":"))
    assert NIGHT.contains(time(h, m)) is inside


def test_daytime_window() -> None:
    assert LUNCH.contains(time(12, 45)) and not LUNCH.contains(time(13, 30))


def test_patient_timezone_decides() -> None:
    now = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # 23:00 Shanghai, 16:00 Berlin, 10:00 NY
    assert active_window((NIGHT,), "Asia/Shanghai", now) == NIGHT
    assert active_window((NIGHT,), "Europe/Berlin", now) is None
    assert (
        active_window((NIGHT, LUNCH), "America/New_York", datetime(2026, 11, 20, 17, 0, tzinfo=UTC))
        == LUNCH
    )
    assert active_window((), "UTC", now) is None


def test_window_end_follows_local_clock_through_dst() -> None:
    # Europe/Berlin leaves DST on 2026-10-25: 07:00 local is 06:00 UTC, not 05:00
    now = datetime(2026, 10, 24, 22, 30, tzinfo=UTC)  # 00:30 local, CEST
    assert window_end(NIGHT, "Europe/Berlin", now) == datetime(2026, 10, 25, 6, 0, tzinfo=UTC)
    assert (
        active_window((NIGHT,), "Europe/Berlin", datetime(2026, 10, 25, 5, 30, tzinfo=UTC)) == NIGHT
    )  # 06:30 CET


@pytest.mark.parametrize(
    ("start", "end"), [("22:00", "22:00"), ("7:00", "08:00"), ("24:00", "01:00")]
)
def test_bad_windows(start: str, end: str) -> None:
    with pytest.raises(ValueError):
        QuietWindow.parse(start, end)
