"""Pure roster arithmetic (no Django): shift windows, rotation plans and coverage gaps.

* :func:`shift_window` turns a local date and start/end clock times into aware instants; an end at
  or before the start means the shift runs past midnight into the next day (equal = 24 hours).
* :func:`rotation_plan` assigns people to the seats of a set of shift templates over a run of days
  in a repeating pattern: the people list repeats, each person keeps a seat for ``block_days``
  consecutive days, and a template applies on every day, working days only or off days only
  (weekends and statutory holidays).
* :func:`coverage_gaps` compares required windows with the shifts that fully cover them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

DAY_WORKING = "working"
DAY_WEEKEND = "weekend"
DAY_HOLIDAY = "holiday"


def shift_window(day: date, start: time, end: time, tz: tzinfo) -> tuple[datetime, datetime]:
    """Aware ``(starts_at, ends_at)`` of a shift on local ``day`` in ``tz``; crosses midnight when
    ``end <= start``."""
    starts_at = datetime.combine(day, start, tzinfo=tz)
    end_day = day + timedelta(days=1) if end <= start else day
    return starts_at, datetime.combine(end_day, end, tzinfo=tz)


@dataclass(frozen=True)
class TemplateSpec:
    """A shift template as the planner sees it: ``days`` is ``all``, ``working`` or ``off``."""

    key: int
    days: str
    seats: int


@dataclass(frozen=True)
class Seat:
    day: date
    template: int
    person: int


def template_applies(days: str, day_type: str) -> bool:
    """Whether a template with ``days`` (all/working/off) is required on a day of ``day_type``."""
    if days == "all":
        return True
    if days == "working":
        return day_type == DAY_WORKING
    return day_type != DAY_WORKING


def rotation_plan(
    days: Sequence[tuple[date, str]],
    templates: Sequence[TemplateSpec],
    people: Sequence[int],
    *,
    block_days: int = 1,
    offset: int = 0,
) -> list[Seat]:
    """Seats for every applicable (day, template, seat) in order.

    The templates' seats are numbered ``0..K-1`` once for all days; block ``b`` (days
    ``b*block_days ..``) gives seat ``k`` to ``people[(b + k + offset) % len(people)]``. So with at
    least ``K`` people nobody holds two seats on one day, everybody moves one seat on per block
    (day shift, then night shift, then off …), and the pattern repeats every ``len(people)``
    blocks. Raises ``ValueError`` for no people or ``block_days < 1``."""
    if not people:
        raise ValueError("people is empty")
    if block_days < 1:
        raise ValueError("block_days must be >= 1")
    seat_base: list[int] = []
    total = 0
    for spec in templates:
        seat_base.append(total)
        total += spec.seats
    out: list[Seat] = []
    n = len(people)
    for index, (day, day_type) in enumerate(days):
        block = index // block_days
        for spec, base in zip(templates, seat_base, strict=True):
            if not template_applies(spec.days, day_type):
                continue
            for seat in range(spec.seats):
                out.append(Seat(day, spec.key, people[(block + base + seat + offset) % n]))
    return out


@dataclass(frozen=True)
class Window:
    """A required window: ``need`` distinct people must be on shifts covering ``[start, end)``."""

    key: object
    start: datetime
    end: datetime
    need: int


def coverage_gaps(windows: Sequence[Window], shifts: Sequence[tuple[datetime, datetime, int]]) -> list[tuple]:
    """``(window, have)`` for each window with fewer than ``need`` distinct people on shifts
    ``(start, end, person)`` that fully cover it (``start <= window.start`` and ``end >= window.end``)."""
    gaps = []
    for window in windows:
        have = len({person for start, end, person in shifts if start <= window.start and end >= window.end})
        if have < window.need:
            gaps.append((window, have))
    return gaps
