"""Counting windows in Asia/Shanghai local time (pure: no Django).

A calendar window (day, month) is one bucket: the window itself. A rolling window of N minutes,
hours or days is the sum of the last N buckets of one minute, hour or day; its warning window is
the span of those buckets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = ZoneInfo("UTC")

UNITS = {
    "rolling_minutes": timedelta(minutes=1),
    "rolling_hours": timedelta(hours=1),
    "rolling_days": timedelta(days=1),
}


@dataclass(frozen=True)
class Window:
    bucket: datetime  # the counter row this instant adds to (UTC)
    start: datetime  # first instant the window counts (UTC)
    end: datetime  # first instant after the window (UTC)
    rolling: bool
    unit: timedelta | None  # bucket length for rolling windows


def _floor(at: datetime, unit: timedelta) -> datetime:
    local = at.astimezone(SHANGHAI)
    if unit >= timedelta(days=1):
        local = local.replace(hour=0, minute=0, second=0, microsecond=0)
    elif unit >= timedelta(hours=1):
        local = local.replace(minute=0, second=0, microsecond=0)
    else:
        local = local.replace(second=0, microsecond=0)
    return local.astimezone(UTC)


def window_at(kind: str, size: int, at: datetime) -> Window:
    """The window of ``kind``/``size`` containing the aware instant ``at``."""
    local = at.astimezone(SHANGHAI)
    if kind == "calendar_day":
        start = local.replace(hour=0, minute=0, second=0, microsecond=0)
        end = (start + timedelta(days=1, hours=2)).replace(hour=0)
        return Window(start.astimezone(UTC), start.astimezone(UTC), end.astimezone(UTC), False, None)
    if kind == "calendar_month":
        start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        end = (start + timedelta(days=32)).replace(day=1)
        return Window(start.astimezone(UTC), start.astimezone(UTC), end.astimezone(UTC), False, None)
    unit = UNITS.get(kind)
    if unit is None:
        raise ValueError(f"unknown window kind {kind!r}")
    bucket = _floor(at, unit)
    return Window(bucket, bucket - unit * (max(size, 1) - 1), bucket + unit, True, unit)


def hour_floor(at: datetime) -> datetime:
    """The start (UTC) of the local hour containing ``at``."""
    return _floor(at, timedelta(hours=1))
