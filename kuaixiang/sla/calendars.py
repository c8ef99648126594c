"""Build the kernel's :class:`BusinessCalendar` from the package and the override table.

The built value is cached per process and keyed by the calendar's ``revision``, which
changes on every save of the calendar or of one of its days (signals below). Looking a
calendar up costs one small query; rebuilding happens only after a change. Code that
computes many deadlines in a loop should fetch the calendar once and reuse it.
"""

from __future__ import annotations

import threading
from datetime import date, datetime
from functools import cache

from chinese_calendar import constants as package_data

from kuaixiang.errors import DomainError, InvalidInput, NotFound
from kuaixiang.sla.models import Calendar, CalendarDay, DayKind
from kuaixiang.sla.worktime import BusinessCalendar, CalendarYearUnknown, DayInfo, Unit, parse_week_hours

DEFAULT_CALENDAR = "cn"

# The package names holidays in English; people read Chinese.
HOLIDAY_NAMES_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}

_cache: dict[str, tuple[str, BusinessCalendar]] = {}
_lock = threading.Lock()


@cache
def package_years() -> frozenset[int]:
    """Years the installed `chinesecalendar` package has official holiday data for."""
    years = {d.year for d in package_data.holidays}
    return frozenset(range(min(years), max(years) + 1))


@cache
def _package_days() -> tuple[dict[date, str], dict[date, str]]:
    holidays = {d: HOLIDAY_NAMES_ZH.get(name, name) for d, name in package_data.holidays.items()}
    workdays = {d: HOLIDAY_NAMES_ZH.get(name, name) for d, name in package_data.workdays.items()}
    return holidays, workdays


def calendar_build(calendar: Calendar) -> BusinessCalendar:
    """Build the kernel value of ``calendar``: package data (if used), then overrides on top."""
    holidays: dict[date, str] = {}
    makeup: dict[date, str] = {}
    closures: dict[date, str] = {}
    years = {int(y) for y in calendar.covered_years or []}
    if calendar.use_package:
        package_holidays, package_workdays = _package_days()
        holidays.update(package_holidays)
        makeup.update(package_workdays)
        years |= package_years()
    target = {DayKind.HOLIDAY: holidays, DayKind.WORKDAY: makeup, DayKind.CLOSURE: closures}
    for day in CalendarDay.objects.filter(calendar=calendar).only("date", "kind", "name"):
        for table in (holidays, makeup, closures):
            table.pop(day.date, None)
        target[DayKind(day.kind)][day.date] = day.name
    return BusinessCalendar(
        parse_week_hours(calendar.business_hours),
        years=years,
        holidays=holidays,
        makeup_days=makeup,
        closures=closures,
        tz=calendar.timezone,
        code=calendar.code,
    )


def calendar_get(code: str = DEFAULT_CALENDAR) -> BusinessCalendar:
    """Return the cached kernel calendar for ``code``; raise NotFound for an unknown code."""
    row = Calendar.objects.filter(code=code).values_list("revision", flat=True).first()
    if row is None:
        raise NotFound("calendar_not_found", f"工作日历 {code} 不存在", {"calendar": code})
    cached = _cache.get(code)
    if cached is not None and cached[0] == row:
        return cached[1]
    calendar = Calendar.objects.get(code=code)
    built = calendar_build(calendar)
    with _lock:
        _cache[code] = (calendar.revision, built)
    return built


def calendar_forget(code: str | None = None) -> None:
    """Drop the cached value of one calendar (or all) in this process."""
    with _lock:
        if code is None:
            _cache.clear()
        else:
            _cache.pop(code, None)


def year_unknown_error(exc: CalendarYearUnknown) -> DomainError:
    return DomainError(
        "calendar_year_unknown",
        f"缺少 {exc.year} 年的节假日数据，无法计算；请在后台「工作日历」中录入该年的节假日与调休并登记该年份",
        {"year": exc.year},
        status=422,
    )


def deadline_compute(
    *, start: datetime, amount: float, unit: Unit | str, calendar: str = DEFAULT_CALENDAR, holiday_roll: bool = False
) -> datetime:
    """The due instant for ``amount`` ``unit``s after ``start`` on calendar ``calendar``.

    Raise NotFound (unknown calendar), InvalidInput (bad amount or unit, naive start) or a
    422 DomainError ``calendar_year_unknown`` when a needed year has no holiday data.
    """
    if start.tzinfo is None or start.utcoffset() is None:
        raise InvalidInput("naive_datetime", "开始时间须带时区偏移，例如 2025-09-30T17:00:00+08:00", {"field": "start"})
    kernel = calendar_get(calendar)
    try:
        unit = Unit(unit)
    except ValueError as exc:
        choices = ", ".join(u.value for u in Unit)
        raise InvalidInput("invalid_unit", f"时间单位无效，可选：{choices}", {"field": "unit"}) from exc
    if unit in (Unit.WORKING_DAYS, Unit.NATURAL_DAYS) and amount != int(amount):
        raise InvalidInput("amount_not_whole", "按天计算时数量须为整数", {"field": "amount"})
    try:
        return kernel.add(start, amount, unit, holiday_roll=holiday_roll)
    except CalendarYearUnknown as exc:
        raise year_unknown_error(exc) from exc
    except (ValueError, OverflowError) as exc:
        raise InvalidInput("invalid_amount", "数量无效或超出可计算范围", {"field": "amount"}) from exc


def calendar_days(*, first: date, last: date, calendar: str = DEFAULT_CALENDAR) -> list[DayInfo]:
    """Every date from ``first`` to ``last`` with the calendar's verdict; 422 for an unknown year."""
    kernel = calendar_get(calendar)
    try:
        return kernel.days(first, last)
    except CalendarYearUnknown as exc:
        raise year_unknown_error(exc) from exc


def day_reason(info: DayInfo) -> str:
    """Chinese reason shown next to a date: 工作日 / 周末 / 国庆节 / 调休上班（国庆节） / closure name."""
    if info.kind == "weekend":
        return "周末"
    if info.kind == "workday":
        return "工作日"
    if info.kind == "makeup":
        return f"调休上班（{info.name}）" if info.name else "调休上班"
    return info.name or ("节假日" if info.kind == "holiday" else "停业")


# ------------------------------------------------------------------ invalidation (connected in apps.py)


def on_calendar_saved(sender: type, instance: Calendar, **kwargs: object) -> None:
    calendar_forget(instance.code)


def on_day_changed(sender: type, instance: CalendarDay, **kwargs: object) -> None:
    calendar = Calendar.objects.filter(pk=instance.calendar_id).first()
    if calendar is not None:
        calendar.touch()
        calendar_forget(calendar.code)
