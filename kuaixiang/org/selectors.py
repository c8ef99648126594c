"""Duty roster reads: the roster of a department over a date range, who is on duty, the gap check.

Reads are scoped: a user sees the roster of the departments in their data scope
(``kuaixiang.org.scope.scope_for``); superusers see everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from kuaixiang import clock
from kuaixiang.errors import Forbidden, InvalidInput, NotFound
from kuaixiang.org.models import Department, Shift, ShiftTemplate
from kuaixiang.org.roles import Role
from kuaixiang.org.rotation import Window, coverage_gaps, shift_window, template_applies
from kuaixiang.org.scope import scope_for

MAX_RANGE_DAYS = 62


def department_visible(user, code_or_id) -> Department:
    """The department (by code or id) if the user's scope covers it; 404 if unknown, 403 if outside."""
    queryset = Department.objects.all()
    text = str(code_or_id)
    if text.isdigit() and len(text) < 19:
        department = queryset.filter(pk=int(text)).first() or queryset.filter(code=text).first()
    else:
        department = queryset.filter(code=str(code_or_id)).first()
    if department is None:
        raise NotFound("department_not_found", f"部门不存在：{code_or_id}")
    if not scope_for(user).covers_department(department.pk):
        raise Forbidden("department_forbidden", f"无权查看{department.name}的值班表")
    return department


def departments_visible(user):
    """Active departments in the user's scope, in tree order."""
    scope = scope_for(user)
    queryset = Department.objects.filter(active=True)
    return queryset if scope.everything else queryset.filter(pk__in=scope.department_ids)


def _check_range(first: date, last: date) -> None:
    if last < first:
        raise InvalidInput("range_invalid", "结束日期早于开始日期", {})
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise InvalidInput("range_too_long", f"一次最多查看 {MAX_RANGE_DAYS} 天", {})


def shifts_between(*, department: Department, first: date, last: date, role: str | None = None):
    """Shifts of ``department`` whose local date is in ``[first, last]``, with user and template
    loaded (one query), ordered by start."""
    _check_range(first, last)
    queryset = Shift.objects.filter(department=department, date__gte=first, date__lte=last)
    if role:
        queryset = queryset.filter(role=role)
    return list(queryset.select_related("user", "template").order_by("starts_at", "role", "user__username"))


def shifts_on_date(*, user, day: date, department: Department | None = None) -> list[Shift]:
    """Shifts on local ``day`` in ``department`` (or every department in the user's scope), one query."""
    queryset = Shift.objects.filter(date=day).select_related("user", "department", "template")
    if department is not None:
        queryset = queryset.filter(department=department)
    else:
        scope = scope_for(user)
        if not scope.everything:
            queryset = queryset.filter(department_id__in=scope.department_ids)
    return list(queryset.order_by("department__path", "starts_at", "role", "user__username"))


@dataclass(frozen=True)
class Gap:
    """A required template day with fewer than ``need`` people rostered."""

    day: date
    template: ShiftTemplate
    starts_at: datetime
    ends_at: datetime
    need: int
    have: int

    @property
    def role_label(self) -> str:
        return str(Role(self.template.role).label)


def duty_gaps(*, department: Department, first: date, last: date) -> list[Gap]:
    """The gap check: for each required shift template of ``department`` and each day from
    ``first`` to ``last`` on which it applies (working days / weekends and holidays / every day,
    by the working-day calendar), a :class:`Gap` when fewer than ``min_staff`` distinct active
    people of the template's role have shifts covering its whole window. Three queries."""
    from kuaixiang.org.services import day_types

    _check_range(first, last)
    templates = list(ShiftTemplate.objects.filter(department=department, required=True))
    if not templates:
        return []
    windows = []
    for day, day_type in day_types(first, last):
        for template in templates:
            if template_applies(template.days, day_type):
                start, end = shift_window(day, template.start, template.end, clock.SHANGHAI)
                windows.append(Window((day, template), start, end, template.min_staff))
    if not windows:
        return []
    span_start = min(w.start for w in windows)
    span_end = max(w.end for w in windows)
    rows = Shift.objects.filter(
        department=department, starts_at__lt=span_end, ends_at__gt=span_start, user__is_active=True
    ).values_list("role", "starts_at", "ends_at", "user_id")
    by_role: dict[str, list] = {}
    for role, start, end, user_id in rows:
        by_role.setdefault(role, []).append((start, end, user_id))
    gaps = []
    for template in templates:
        mine = [w for w in windows if w.key[1] is template]
        for window, have in coverage_gaps(mine, by_role.get(template.role, [])):
            day = window.key[0]
            gaps.append(Gap(day, template, window.start, window.end, window.need, have))
    gaps.sort(key=lambda g: (g.starts_at, g.template.role, g.template.name))
    return gaps


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())
