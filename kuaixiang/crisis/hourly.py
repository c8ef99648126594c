"""Hourly tracking (逐小时跟踪): new linked complaints per hour and the change against the hour before.

Pure Python, no Django. Hours are whole clock hours in UTC; Asia/Shanghai is UTC+8 without
daylight saving, so they are whole local hours too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

HOUR = timedelta(hours=1)
MAX_HOURS = 24 * 90  # an incident tracked longer than 90 days shows its last 90 days


@dataclass(frozen=True, slots=True)
class HourFigure:
    """One hour: ``start`` (aware UTC), its ``count``, ``change`` = count − previous hour's count,
    ``percent`` = change / previous × 100 rounded to one decimal (None when the previous hour had 0)."""

    start: datetime
    count: int
    change: int
    percent: float | None


def hour_floor(instant: datetime) -> datetime:
    """The start of the clock hour holding ``instant`` (aware), in UTC."""
    if instant.tzinfo is None:
        raise ValueError("aware datetime required")
    return instant.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def series_window(activated_at: datetime, closed_at: datetime | None, now: datetime) -> tuple[datetime, datetime]:
    """First and last hour start of an incident's series: from its activation hour to the hour of its
    close (or of ``now`` while open), at most ``MAX_HOURS`` long (the latest hours kept)."""
    first = hour_floor(activated_at)
    last = hour_floor(closed_at or now)
    if last < first:
        last = first
    if (last - first) / HOUR >= MAX_HOURS:
        first = last - (MAX_HOURS - 1) * HOUR
    return first, last


def hourly_series(counts: Mapping[datetime, int], first: datetime, last: datetime) -> list[HourFigure]:
    """The figures from hour ``first`` to hour ``last`` inclusive. ``counts`` maps hour starts (UTC) to
    counts; missing hours count 0; the hour before ``first`` (if in ``counts``) is the baseline of
    the first hour's change."""
    first, last = hour_floor(first), hour_floor(last)
    previous = counts.get(first - HOUR, 0)
    out: list[HourFigure] = []
    hour = first
    while hour <= last:
        count = counts.get(hour, 0)
        change = count - previous
        percent = round(change * 100 / previous, 1) if previous else None
        out.append(HourFigure(hour, count, change, percent))
        previous = count
        hour += HOUR
    return out
