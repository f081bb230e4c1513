"""Device clock values -> UTC instants.

Rule (device clocks are local wall-clock time with no zone):

* ``clock_offset`` is what the gateway measured when it connected:
  ``gateway UTC now - device clock now read as if it were UTC`` (see :func:`clock_offset`;
  read the device's Current Time 0x2A2B, or the time stamp of a measurement taken "now").
  It folds the device's timezone and its drift into one number, so
  ``measured_at = device time (as UTC) + clock_offset``.
* Without an offset the device time is taken to be in ``device_tz`` (default: the
  gateway's local zone — a cuff set up by the same household).
* A missing or partly unknown device time (year/month/day 0) gives
  ``measured_at = received_at``.
* An aware device time (Polar PMD: ns since 2000-01-01 UTC) is used as is, plus the
  offset when one is given.
The raw device time is always kept in the reading's ``device_time``.
"""

from __future__ import annotations

import datetime as dt

from device_drivers.codecs.date_time import DateTime


def clock_offset(device_now: DateTime | dt.datetime, gateway_now: dt.datetime) -> dt.timedelta:
    """Offset to add to a device wall-clock time (read as UTC) to get true UTC."""
    naive = device_now.to_naive() if isinstance(device_now, DateTime) else device_now
    if naive is None:
        raise ValueError("device clock value has an unknown date")
    if gateway_now.tzinfo is None:
        raise ValueError("gateway_now must be timezone-aware")
    return gateway_now.astimezone(dt.UTC) - naive.replace(tzinfo=dt.UTC)


def measured_at(
    device_time: DateTime | dt.datetime | None,
    *,
    received_at: dt.datetime,
    clock_offset: dt.timedelta | None = None,
    device_tz: dt.tzinfo | None = None,
) -> dt.datetime:
    """UTC measurement instant from a zone-less device time (rule in the module doc)."""
    if received_at.tzinfo is None:
        raise ValueError("received_at must be timezone-aware")
    naive = device_time.to_naive() if isinstance(device_time, DateTime) else device_time
    if naive is None:
        return received_at.astimezone(dt.UTC)
    if naive.tzinfo is not None:  # already an instant (e.g. PMD epoch time)
        base = naive.astimezone(dt.UTC)
        return base + clock_offset if clock_offset is not None else base
    if clock_offset is not None:
        return naive.replace(tzinfo=dt.UTC) + clock_offset
    local = naive.replace(tzinfo=device_tz) if device_tz is not None else naive.astimezone()
    return local.astimezone(dt.UTC)
