"""Working-time arithmetic on a business calendar (pure Python, no Django).

A :class:`BusinessCalendar` is an immutable value built once from business hours and day
data (statutory holidays, make-up working days, one-off closures) and reused for any
number of computations. All tables are precomputed per covered year, so one deadline costs
a couple of bisections on sorted lists.

Conventions (docs/calendar.md explains them with examples):

* ``clock_minutes`` / ``clock_hours``: elapsed physical time; holidays are never skipped.
* ``working_minutes`` / ``working_hours``: only business hours count; a start outside
  business hours begins at the next opening. The due instant is the earliest instant at
  which the amount has been worked (so a deadline may be exactly a closing time, 12:00).
* ``working_days``: the start day is not counted; N working days end at 23:59:59 of the
  N-th working day after the start day. A make-up weekend day (调休) is a working day.
* ``natural_days``: end at 23:59:59 of start date + N; with ``holiday_roll=True`` an end
  date on a statutory holiday moves to the first working day after it (regulators' rule;
  ordinary weekends and local closures do not roll).
* An amount of 0 gives the start itself for time units and the end of the start day for
  day units (never earlier than the start).

Inputs are aware datetimes in any zone; outputs are aware datetimes in the calendar's zone
(Asia/Shanghai). A computation that needs day data of a year the calendar does not cover
raises :class:`CalendarYearUnknown` — never a guess. Clock units and ``natural_days``
without a roll need no day data and work for any year.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from enum import StrEnum
from functools import cache
from typing import Final
from zoneinfo import ZoneInfo

__all__ = [
    "WEEKDAY_KEYS",
    "BusinessCalendar",
    "CalendarYearUnknown",
    "DayInfo",
    "DayKind",
    "Interval",
    "Unit",
    "add",
    "elapsed",
    "format_week_hours",
    "parse_week_hours",
]

SHANGHAI: Final = "Asia/Shanghai"
WEEKDAY_KEYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAKEUP_KEY: Final = "makeup"

_US_PER_SECOND: Final = 1_000_000
_US_PER_MINUTE: Final = 60 * _US_PER_SECOND
_US_PER_HOUR: Final = 60 * _US_PER_MINUTE
_US_PER_DAY: Final = 24 * _US_PER_HOUR
_END_OF_DAY: Final = timedelta(hours=23, minutes=59, seconds=59)

Interval = tuple[int, int]
"""Business hours of a day: (start, end) in seconds after local midnight, end exclusive."""

Pause = tuple[datetime, datetime | None]


class CalendarYearUnknown(LookupError):
    """The calendar has no holiday data for ``year``; the answer would be a guess."""

    def __init__(self, year: int) -> None:
        super().__init__(f"no calendar data for year {year}")
        self.year = year


class Unit(StrEnum):
    CLOCK_MINUTES = "clock_minutes"
    CLOCK_HOURS = "clock_hours"
    WORKING_MINUTES = "working_minutes"
    WORKING_HOURS = "working_hours"
    WORKING_DAYS = "working_days"
    NATURAL_DAYS = "natural_days"


# Units that count physical time: they never skip holidays or closed hours.
CLOCK_UNITS: Final = frozenset({Unit.CLOCK_MINUTES, Unit.CLOCK_HOURS, Unit.NATURAL_DAYS})


# Enum member access and enum hashing are slow in Python 3.11: the hot paths compare module
# constants by identity instead.
_CLOCK_MINUTES: Final = Unit.CLOCK_MINUTES
_CLOCK_HOURS: Final = Unit.CLOCK_HOURS
_WORKING_MINUTES: Final = Unit.WORKING_MINUTES
_WORKING_HOURS: Final = Unit.WORKING_HOURS
_WORKING_DAYS: Final = Unit.WORKING_DAYS
_MINUTE: Final = timedelta(minutes=1)
_HOUR: Final = timedelta(hours=1)


class DayKind(StrEnum):
    WORKDAY = "workday"  # an ordinary working day
    WEEKEND = "weekend"  # a day without business hours in the weekly schedule
    HOLIDAY = "holiday"  # statutory holiday (法定节假日), including weekend days inside the block
    MAKEUP = "makeup"  # make-up working day (调休上班) on a day that is normally off
    CLOSURE = "closure"  # one-off local closure (停业)


_WORKING_KINDS: Final = frozenset({DayKind.WORKDAY, DayKind.MAKEUP})
_WORKDAY: Final = DayKind.WORKDAY
_MAKEUP: Final = DayKind.MAKEUP
_HOLIDAY: Final = DayKind.HOLIDAY
_UNITS: Final[Mapping[str, Unit]] = {u.value: u for u in Unit}


@dataclass(frozen=True, slots=True)
class DayInfo:
    """What the calendar says about one local date."""

    day: date
    kind: DayKind
    name: str  # holiday / make-up / closure name; "" for ordinary days
    hours: tuple[Interval, ...]  # business hours; () on a non-working day

    @property
    def working(self) -> bool:
        return self.kind is _WORKDAY or self.kind is _MAKEUP


def _parse_clock(text: str) -> int:
    hh, sep, mm = text.partition(":")
    if not sep or not hh.isdigit() or not mm.isdigit() or len(mm) != 2 or len(hh) > 2:
        raise ValueError(f"时间格式应为 HH:MM：{text!r}")
    seconds = int(hh) * 3600 + int(mm) * 60
    if int(mm) > 59 or seconds > 86400:
        raise ValueError(f"时间超出 00:00–24:00：{text!r}")
    return seconds


def _check_intervals(intervals: Sequence[Interval], where: str) -> tuple[Interval, ...]:
    out: list[Interval] = []
    previous_end = -1
    for start, end in intervals:
        if not 0 <= start < end <= 86400:
            raise ValueError(f"{where}：时段 {start}–{end} 无效（开始须早于结束，且在 00:00–24:00 内）")
        if start < previous_end:
            raise ValueError(f"{where}：时段须按时间先后排列且不重叠")
        previous_end = end
        out.append((start, end))
    return tuple(out)


def parse_week_hours(raw: Mapping[str, object]) -> dict[str, tuple[Interval, ...]]:
    """Parse ``{"mon": [["09:00", "12:00"], ["13:30", "18:00"]], ..., "makeup": [...]}``.

    Keys are ``mon``..``sun`` and the optional ``makeup`` (hours of a make-up working day;
    default: the first weekday Mon–Fri that has hours). Missing weekdays have no hours.
    Raise ``ValueError`` with a Chinese message on any malformed entry.
    """
    if not isinstance(raw, Mapping):
        raise ValueError('营业时间应为 JSON 对象，例如 {"mon": [["09:00", "12:00"]]}')
    out: dict[str, tuple[Interval, ...]] = {}
    for key, value in raw.items():
        if key not in WEEKDAY_KEYS and key != MAKEUP_KEY:
            raise ValueError(f"未知的星期键 {key!r}，可选：{', '.join((*WEEKDAY_KEYS, MAKEUP_KEY))}")
        if not isinstance(value, list | tuple):
            raise ValueError(f"{key}：应为时段列表")
        pairs: list[Interval] = []
        for item in value:
            if not isinstance(item, list | tuple) or len(item) != 2 or not all(isinstance(t, str) for t in item):
                raise ValueError(f'{key}：每个时段应为 ["HH:MM", "HH:MM"]')
            pairs.append((_parse_clock(item[0]), _parse_clock(item[1])))
        out[key] = _check_intervals(pairs, key)
    return out


def format_week_hours(hours: Mapping[str, Sequence[Interval]]) -> dict[str, list[list[str]]]:
    """The inverse of :func:`parse_week_hours`."""

    def clock(seconds: int) -> str:
        return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"

    return {key: [[clock(a), clock(b)] for a, b in value] for key, value in hours.items()}


class BusinessCalendar:
    """Business hours plus day data for a set of covered years; immutable once built.

    ``week_hours`` maps ``mon``..``sun`` (and optionally ``makeup``) to business-hour
    intervals as returned by :func:`parse_week_hours`. ``holidays``, ``makeup_days`` and
    ``closures`` map dates to names; when a date appears in several, closures win over
    make-up days, which win over holidays (the caller resolves package-versus-override
    precedence before building). ``years`` are the years whose day data is complete.
    """

    __slots__ = (
        "code",
        "tz",
        "years",
        "week_hours",
        "makeup_hours",
        "_holidays",
        "_makeup",
        "_closures",
        "_base",
        "_count",
        "_kinds",
        "_hours_us",
        "_cum",
        "_work_ords",
        "_ymd",
        "_eods",
        "_run_last",
        "_stable_from",
    )

    def __init__(
        self,
        week_hours: Mapping[str, Sequence[Interval]],
        *,
        years: Iterable[int],
        holidays: Mapping[date, str] | None = None,
        makeup_days: Mapping[date, str] | None = None,
        closures: Mapping[date, str] | None = None,
        tz: str = SHANGHAI,
        code: str = "",
    ) -> None:
        self.code = code
        self.tz = ZoneInfo(tz)
        self._stable_from = _stable_from(self.tz)
        self.years: frozenset[int] = frozenset(years)
        weekly = [_check_intervals(week_hours.get(key, ()), key) for key in WEEKDAY_KEYS]
        self.week_hours: tuple[tuple[Interval, ...], ...] = tuple(weekly)
        makeup = week_hours.get(MAKEUP_KEY)
        if makeup is None:
            makeup = next((h for h in weekly[:5] if h), ())
        self.makeup_hours = _check_intervals(makeup, MAKEUP_KEY)
        self._holidays = dict(holidays or {})
        self._makeup = dict(makeup_days or {})
        self._closures = dict(closures or {})

        # One table row per local date from 1 Jan of the first covered year to 31 Dec of the
        # last: kind, business hours in µs, cumulative working µs before the day, the date's
        # (y, m, d), its 23:59:59 instant, and the last index of its run of covered years (a
        # computation may not cross into an uncovered year; -1 for a day of such a year).
        first = date(min(self.years), 1, 1) if self.years else date(2000, 1, 1)
        last = date(max(self.years), 12, 31) if self.years else date(1999, 12, 31)
        self._base = base = first.toordinal()
        self._count = last.toordinal() - base + 1
        run_last_year: dict[int, int] = {}
        for year in sorted(self.years, reverse=True):
            run_last_year[year] = run_last_year.get(year + 1, year)
        kinds: list[DayKind | None] = []
        hours_us: list[tuple[Interval, ...]] = []
        cum = [0]
        work_ords: list[int] = []
        ymd: list[tuple[int, int, int]] = []
        eods: list[datetime] = []
        run_last: list[int] = []
        for i in range(self._count):
            day = date.fromordinal(base + i)
            ymd.append((day.year, day.month, day.day))
            eods.append(datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=self.tz))
            if day.year not in self.years:
                kinds.append(None)
                hours_us.append(())
                cum.append(cum[-1])
                run_last.append(-1)
                continue
            run_last.append(date(run_last_year[day.year], 12, 31).toordinal() - base)
            kind, _name, day_hours = self._classify(day)
            kinds.append(kind)
            hours_us.append(tuple((a * _US_PER_SECOND, b * _US_PER_SECOND) for a, b in day_hours))
            cum.append(cum[-1] + sum(b - a for a, b in day_hours) * _US_PER_SECOND)
            if kind in _WORKING_KINDS:
                work_ords.append(base + i)
        self._kinds = kinds
        self._hours_us = hours_us
        self._cum = cum
        self._work_ords = work_ords
        self._ymd = ymd
        self._eods = eods
        self._run_last = run_last

    def _classify(self, day: date) -> tuple[DayKind, str, tuple[Interval, ...]]:
        weekly = self.week_hours[day.weekday()]
        if day in self._closures:
            return DayKind.CLOSURE, self._closures[day], ()
        if day in self._makeup:
            return DayKind.MAKEUP, self._makeup[day], weekly or self.makeup_hours
        if day in self._holidays:
            return DayKind.HOLIDAY, self._holidays[day], ()
        if weekly:
            return DayKind.WORKDAY, "", weekly
        return DayKind.WEEKEND, "", ()

    # ----------------------------------------------------------------- day queries

    def covers(self, year: int) -> bool:
        return year in self.years

    def day(self, day: date) -> DayInfo:
        """Describe one local date; raise CalendarYearUnknown for an uncovered year."""
        if day.year not in self.years:
            raise CalendarYearUnknown(day.year)
        kind, name, hours = self._classify(day)
        return DayInfo(day, kind, name, hours)

    def days(self, first: date, last: date) -> list[DayInfo]:
        """Describe every date from ``first`` to ``last`` inclusive."""
        self._require(first.toordinal(), last.toordinal())
        return [self.day(date.fromordinal(o)) for o in range(first.toordinal(), last.toordinal() + 1)]

    def is_working_day(self, day: date) -> bool:
        return self.day(day).working

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        return date.fromordinal(self._nth_working_after(day.toordinal(), 1))

    # ----------------------------------------------------------------- arithmetic

    def add(self, start: datetime, amount: float, unit: Unit | str, *, holiday_roll: bool = False) -> datetime:
        """Return the due instant ``amount`` ``unit``s after ``start``, in the calendar's zone.

        ``start`` must be aware. ``amount`` must be finite and ≥ 0, and whole for day units.
        ``holiday_roll`` applies to ``natural_days`` only. Raise CalendarYearUnknown when the
        answer depends on a year the calendar does not cover, ValueError on bad input.
        """
        unit = _unit(unit)
        if start.tzinfo is None:
            raise ValueError("start must be an aware datetime")
        if not math.isfinite(amount) or amount < 0:
            raise ValueError("amount must be a finite number ≥ 0")
        tz = self.tz
        if unit is _CLOCK_MINUTES or unit is _CLOCK_HOURS:
            delta = (_MINUTE if unit is _CLOCK_MINUTES else _HOUR) * amount
            zone = start.tzinfo
            if type(zone) is timezone or (zone is tz and start.year >= self._stable_from):
                return (start + delta).astimezone(tz)  # wall clock and physical time agree here
            return (start.astimezone(UTC) + delta).astimezone(tz)
        local = start.astimezone(tz)
        if unit is _WORKING_HOURS:
            return self._add_working(local, round(amount * _US_PER_HOUR))
        if unit is _WORKING_MINUTES:
            return self._add_working(local, round(amount * _US_PER_MINUTE))
        if amount != int(amount):
            raise ValueError(f"{unit.value} needs a whole number of days")
        n = int(amount)
        ordinal = local.toordinal()
        if unit is _WORKING_DAYS:
            if n == 0:
                return max(local, self._end_of_day(ordinal))
            return self._end_of_day(self._nth_working_after(ordinal, n))
        # natural days
        end = ordinal + n
        if holiday_roll:
            i = end - self._base
            if not 0 <= i < self._count or self._kinds[i] is None:
                raise CalendarYearUnknown(date.fromordinal(end).year)
            if self._kinds[i] is _HOLIDAY:
                end = self._nth_working_after(end, 1)
        return max(local, self._end_of_day(end)) if n == 0 else self._end_of_day(end)

    def elapsed(
        self,
        start: datetime,
        end: datetime,
        *,
        pauses: Iterable[Pause] = (),
        clock: bool = False,
    ) -> timedelta:
        """Return the working time between two aware instants, minus ``pauses``.

        With ``clock=True`` count physical time instead of business hours. Pauses are
        ``(start, end)`` pairs (``end`` None = still paused); overlaps are merged and only the
        part inside ``[start, end]`` counts. ``end < start`` gives the negated result (the
        remaining time before a deadline is ``elapsed(now, due)``). Raise CalendarYearUnknown
        for a working-time span over an uncovered year.
        """
        if end < start:
            return -self.elapsed(end, start, pauses=pauses, clock=clock)
        measure = self._clock_us if clock else self._working_us
        total = measure(start, end)
        for p_start, p_end in _merge_pauses(pauses, start, end):
            total -= measure(p_start, p_end)
        return timedelta(microseconds=total)

    # ----------------------------------------------------------------- internals

    def _require(self, first_ordinal: int, last_ordinal: int) -> None:
        """Raise unless every year from ``first_ordinal`` to ``last_ordinal`` is covered."""
        i = first_ordinal - self._base
        if not 0 <= i < self._count or self._run_last[i] < 0:
            raise CalendarYearUnknown(date.fromordinal(first_ordinal).year)
        self._require_run(i, last_ordinal - self._base)

    def _require_run(self, i: int, j: int) -> None:
        """Raise unless day index ``j`` lies in the run of covered years of day index ``i``."""
        last = self._run_last[i]
        if j > last:
            raise CalendarYearUnknown(self._ymd[last][0] + 1)

    def _end_of_day(self, ordinal: int) -> datetime:
        i = ordinal - self._base
        if 0 <= i < self._count:
            return self._eods[i]
        day = date.fromordinal(ordinal)
        return datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=self.tz)

    def _nth_working_after(self, ordinal: int, n: int) -> int:
        """Ordinal of the n-th (n ≥ 1) working day strictly after ``ordinal``."""
        work = self._work_ords
        j = bisect_right(work, ordinal) + n - 1
        self._require(ordinal + 1, work[j] if j < len(work) else self._base + self._count)
        return work[j]

    def _position(self, local: datetime) -> tuple[int, int]:
        """(day index, cumulative working µs from the table start up to ``local``)."""
        i = local.toordinal() - self._base
        if not 0 <= i < self._count or self._run_last[i] < 0:
            raise CalendarYearUnknown(local.year)
        t = ((local.hour * 60 + local.minute) * 60 + local.second) * _US_PER_SECOND + local.microsecond
        pos = self._cum[i]
        for a, b in self._hours_us[i]:
            if t <= a:
                break
            if t < b:
                return i, pos + t - a
            pos += b - a
        return i, pos

    def _add_working(self, local: datetime, amount_us: int) -> datetime:
        if amount_us == 0:
            return local
        # _position and _require_run inlined: this is the hottest path of the module
        i = local.toordinal() - self._base
        run_last = self._run_last
        if not 0 <= i < self._count or run_last[i] < 0:
            raise CalendarYearUnknown(local.year)
        t = ((local.hour * 60 + local.minute) * 60 + local.second) * _US_PER_SECOND + local.microsecond
        cum = self._cum
        hours_us = self._hours_us
        target = cum[i] + amount_us
        for a, b in hours_us[i]:
            if t <= a:
                break
            if t < b:
                target += t - a
                break
            target += b - a
        # first day j whose cumulative total reaches the target: cum[j] < target <= cum[j + 1]
        j = bisect_left(cum, target, i + 1) - 1
        if j > run_last[i]:  # an uncovered year, or past the end of the table (j == count)
            raise CalendarYearUnknown(self._ymd[run_last[i]][0] + 1)
        rest = target - cum[j]
        for a, b in hours_us[j]:
            if rest <= b - a:
                t = a + rest
                if t == _US_PER_DAY:  # closing at 24:00 is midnight of the next day
                    return self._eods[j] + timedelta(seconds=1)
                seconds, us = divmod(t, _US_PER_SECOND)
                minutes, second = divmod(seconds, 60)
                hour, minute = divmod(minutes, 60)
                y, m, d = self._ymd[j]
                return datetime(y, m, d, hour, minute, second, us, self.tz)
            rest -= b - a
        raise AssertionError("unreachable: cumulative table out of step with day hours")  # pragma: no cover

    def _working_us(self, start: datetime, end: datetime) -> int:
        tz = self.tz
        i, a = self._position(start.astimezone(tz))
        j, b = self._position(end.astimezone(tz))
        self._require_run(i, j)
        return b - a

    @staticmethod
    def _clock_us(start: datetime, end: datetime) -> int:
        return (end - start) // timedelta(microseconds=1)

    def __repr__(self) -> str:
        years = f"{min(self.years)}–{max(self.years)}" if self.years else "none"
        return f"<BusinessCalendar {self.code or '?'} {self.tz.key} years {years}>"


@cache
def _stable_from(zone: ZoneInfo) -> int:
    """First year from which ``zone`` keeps one UTC offset through 2100 (1992 for Asia/Shanghai).

    From then on, adding clock time to a wall-clock datetime in the zone is exact, which
    saves two zone conversions per clock-unit deadline.
    """
    last_change = 1969
    previous = None
    for year in range(1970, 2101):
        for month in range(1, 13):
            offset = datetime(year, month, 1, tzinfo=zone).utcoffset()
            if previous is not None and offset != previous:
                last_change = year
            previous = offset
    return last_change + 1


def _unit(value: Unit | str) -> Unit:
    if type(value) is Unit:
        return value
    unit = _UNITS.get(value)
    if unit is None:
        raise ValueError(f"unknown unit {value!r}; choose from {', '.join(_UNITS)}")
    return unit


def _merge_pauses(pauses: Iterable[Pause], start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    clipped: list[tuple[datetime, datetime]] = []
    for p_start, p_end in pauses:
        if p_end is not None and p_end < p_start:
            raise ValueError("a pause must not end before it starts")
        lo = max(p_start, start)
        hi = end if p_end is None else min(p_end, end)
        if lo < hi:
            clipped.append((lo, hi))
    clipped.sort()
    merged: list[tuple[datetime, datetime]] = []
    for lo, hi in clipped:
        if merged and lo <= merged[-1][1]:
            if hi > merged[-1][1]:
                merged[-1] = (merged[-1][0], hi)
        else:
            merged.append((lo, hi))
    return merged


def add(
    calendar: BusinessCalendar, start: datetime, amount: float, unit: Unit | str, *, holiday_roll: bool = False
) -> datetime:
    """Module-level spelling of :meth:`BusinessCalendar.add`."""
    return calendar.add(start, amount, unit, holiday_roll=holiday_roll)


def elapsed(
    calendar: BusinessCalendar,
    start: datetime,
    end: datetime,
    *,
    pauses: Iterable[Pause] = (),
    clock: bool = False,
) -> timedelta:
    """Module-level spelling of :meth:`BusinessCalendar.elapsed`."""
    return calendar.elapsed(start, end, pauses=pauses, clock=clock)
