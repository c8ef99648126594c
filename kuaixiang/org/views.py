"""Duty roster pages (值班表). Thin: parse the request, call the org services/selectors, render.

A refused request (``DomainError``) is shown on the page with its Chinese message and status."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from kuaixiang import clock
from kuaixiang.errors import DomainError, Forbidden, InvalidInput
from kuaixiang.org import services
from kuaixiang.org.duty import duty_on_shift
from kuaixiang.org.forms import ImportForm, RotationForm, ShiftEditForm, ShiftForm, SwapForm, TemplateForm
from kuaixiang.org.models import Shift, ShiftTemplate
from kuaixiang.org.roles import Role
from kuaixiang.org.rotation import DAY_WORKING
from kuaixiang.org.scope import staff_record
from kuaixiang.org.selectors import department_visible, departments_visible, duty_gaps, shifts_between, week_start
from kuaixiang.web.views import domain_errors

WEEKDAYS = ("一", "二", "三", "四", "五", "六", "日")


def _parse_day(text: str | None, default: date) -> date:
    try:
        return date.fromisoformat(text) if text else default
    except ValueError:
        return default


def _range(view: str, anchor: date) -> tuple[date, date]:
    if view == "month":
        first = anchor.replace(day=1)
        last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
        return week_start(first), week_start(last) + timedelta(days=6)
    first = week_start(anchor)
    return first, first + timedelta(days=6)


def _require_manage(request, department) -> None:
    if not services.roster_can_manage(request.user, department):
        raise Forbidden("roster_forbidden", f"无权编辑{department.name}的值班表")


@login_required
@domain_errors
def duty_index(request):
    """The user's own department's roster, or the list of departments in scope."""
    staff = staff_record(request.user)
    if staff is not None and "all" not in request.GET:
        return redirect("duty:roster", code=staff.department.code)
    return render(request, "org/duty_index.html", {"departments": departments_visible(request.user)})


@login_required
@domain_errors
def roster(request, code: str):
    """Week or month grid of the department's shifts with holidays, gaps and who is on duty now."""
    department = department_visible(request.user, code)
    view = "month" if request.GET.get("view") == "month" else "week"
    today = clock.local_now().date()
    anchor = _parse_day(request.GET.get("start"), today)
    role = request.GET.get("role") if request.GET.get("role") in Role.values else ""
    first, last = _range(view, anchor)
    shifts = shifts_between(department=department, first=first, last=last, role=role or None)
    now = clock.now()
    # The gap check looks ahead: shifts already over are history, not warnings.
    gaps = [
        g
        for g in duty_gaps(department=department, first=first, last=last)
        if g.ends_at > now and (not role or g.template.role == role)
    ]
    by_day: dict[date, dict] = {}
    for day, day_type, reason in services.day_calendar(first, last):
        by_day[day] = {
            "day": day,
            "weekday": WEEKDAYS[day.weekday()],
            "reason": reason,
            "off": day_type != DAY_WORKING,
            "today": day == today,
            "in_month": view == "week" or day.month == anchor.month,
            "shifts": [],
            "gaps": [],
        }
    for shift in shifts:
        by_day[shift.date]["shifts"].append(shift)
    for gap in gaps:
        by_day[gap.day]["gaps"].append(gap)
    days = list(by_day.values())
    roles = sorted({s.role for s in shifts} | {g.template.role for g in gaps}, key=Role.values.index)
    week_rows = [
        {"role": r, "label": Role(r).label, "cells": [[s for s in d["shifts"] if s.role == r] for d in days]}
        for r in roles
    ]
    on_duty = []
    for r in roles:
        people = duty_on_shift(role=r, department_ids=[department.pk], at=now)
        if people:
            on_duty.append({"label": Role(r).label, "people": people})
    step = timedelta(days=7) if view == "week" else None
    if view == "week":
        prev_start, next_start = anchor - step, anchor + step
    else:
        month_first = anchor.replace(day=1)
        prev_start = (month_first - timedelta(days=1)).replace(day=1)
        next_start = (month_first + timedelta(days=32)).replace(day=1)
    context = {
        "department": department,
        "view": view,
        "anchor": anchor,
        "first": first,
        "last": last,
        "days": days,
        "weeks": [days[i : i + 7] for i in range(0, len(days), 7)],
        "week_rows": week_rows,
        "gaps": gaps,
        "on_duty": on_duty,
        "role": role,
        "roles": Role.choices,
        "prev_start": prev_start,
        "next_start": next_start,
        "today": today,
        "can_manage": services.roster_can_manage(request.user, department),
        "departments": departments_visible(request.user),
        "swaps": _recent_swaps(department),
    }
    return render(request, "org/roster.html", context)


def _recent_swaps(department):
    from kuaixiang.org.models import ShiftSwap

    return list(
        ShiftSwap.objects.filter(shift__department=department)
        .select_related("shift", "from_user", "to_user", "approved_by")
        .order_by("-created_at")[:10]
    )


def _back(department, shift_date: date | None = None) -> str:
    url = reverse("duty:roster", kwargs={"code": department.code})
    return f"{url}?start={shift_date.isoformat()}" if shift_date else url


@login_required
@domain_errors
def shift_new(request, code: str):
    department = department_visible(request.user, code)
    _require_manage(request, department)
    initial = {"day": _parse_day(request.GET.get("day"), clock.local_now().date()), "start": "08:30", "end": "17:30"}
    form = ShiftForm(request.POST or None, department=department, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.shift_create(
                department=department,
                role=data["role"],
                user=data["user"],
                day=data["day"],
                start=data["start"],
                end=data["end"],
                kind=data["kind"],
                note=data["note"],
                actor=request.user,
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "已添加值班")
            return redirect(_back(department, data["day"]))
    return render(request, "org/shift_form.html", {"form": form, "department": department, "title": "添加值班"})


@login_required
@domain_errors
def shift_edit(request, shift_id: int):
    shift = get_object_or_404(Shift.objects.select_related("department", "user"), pk=shift_id)
    department = department_visible(request.user, shift.department_id)
    _require_manage(request, department)
    initial = {"start": shift.start, "end": shift.end, "user": shift.user, "note": shift.note}
    form = ShiftEditForm(request.POST or None, department=department, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.shift_update(
                shift=shift,
                actor=request.user,
                user=data["user"],
                start=data["start"],
                end=data["end"],
                note=data["note"],
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "已保存")
            return redirect(_back(department, shift.date))
    context = {"form": form, "department": department, "shift": shift, "title": "编辑值班"}
    return render(request, "org/shift_form.html", context)


@login_required
@require_POST
@domain_errors
def shift_delete(request, shift_id: int):
    shift = get_object_or_404(Shift.objects.select_related("department"), pk=shift_id)
    department = department_visible(request.user, shift.department_id)
    services.shift_delete(shift=shift, actor=request.user)
    messages.success(request, "已删除值班")
    return redirect(_back(department, shift.date))


@login_required
@domain_errors
def shift_swap(request, shift_id: int):
    shift = get_object_or_404(Shift.objects.select_related("department", "user"), pk=shift_id)
    department = department_visible(request.user, shift.department_id)
    _require_manage(request, department)
    form = SwapForm(request.POST or None, department=department, initial={"approved_by": request.user})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.shift_swap(
                shift=shift,
                to_user=data["to_user"],
                approved_by=data["approved_by"],
                reason=data["reason"],
                actor=request.user,
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "已记录换班")
            return redirect(_back(department, shift.date))
    context = {"form": form, "department": department, "shift": shift, "title": "记录换班"}
    return render(request, "org/shift_form.html", context)


@login_required
@domain_errors
def rotation(request, code: str):
    """Generate a rotation; also lists and adds the department's shift templates."""
    department = department_visible(request.user, code)
    _require_manage(request, department)
    today = clock.local_now().date()
    initial = {"first": today, "last": today + timedelta(days=27), "block_days": 1}
    is_template = request.method == "POST" and request.POST.get("form") == "template"
    form = RotationForm(
        request.POST if request.method == "POST" and not is_template else None, department=department, initial=initial
    )
    template_form = TemplateForm(request.POST if is_template else None)
    if is_template and template_form.is_valid():
        try:
            template = services.shift_template_add(
                department=department, template=template_form.save(commit=False), actor=request.user
            )
        except DomainError as exc:
            template_form.add_error("name", exc.message)
        else:
            messages.success(request, f"已添加班次模板“{template.name}”")
            return redirect("duty:rotation", code=department.code)
    elif request.method == "POST" and not is_template and form.is_valid():
        data = form.cleaned_data
        try:
            created = services.rotation_generate(
                department=department,
                role=data["role"],
                templates=list(data["templates"]),
                people=list(data["people"]),
                first=data["first"],
                last=data["last"],
                block_days=data["block_days"],
                replace=data["replace"],
                actor=request.user,
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"已生成 {len(created)} 个值班")
            return redirect(_back(department, data["first"]))
    context = {
        "form": form,
        "template_form": template_form,
        "department": department,
        "templates": ShiftTemplate.objects.filter(department=department),
    }
    return render(request, "org/rotation.html", context)


@login_required
@domain_errors
def roster_import(request, code: str):
    """Upload an .xlsx roster; show row-numbered errors and write nothing when any row is bad."""
    department = department_visible(request.user, code)
    _require_manage(request, department)
    form = ImportForm(request.POST or None, request.FILES or None)
    row_errors: list[dict] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            if upload.size > 5 * 1024 * 1024:
                raise InvalidInput("import_too_large", "文件不能超过 5 MB", {})
            created = services.roster_import(data=upload.read(), actor=request.user)
        except DomainError as exc:
            form.add_error(None, exc.message)
            row_errors = exc.details.get("rows", [])
        else:
            messages.success(request, f"已导入 {len(created)} 个值班")
            return redirect(_back(department, min((s.date for s in created), default=None)))
    context = {"form": form, "department": department, "row_errors": row_errors, "columns": services.IMPORT_COLUMNS}
    status = 400 if row_errors or (request.method == "POST" and form.errors) else 200
    return render(request, "org/import.html", context, status=status)


@login_required
def import_template(request):
    response = HttpResponse(
        services.roster_template_xlsx(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="duty-roster-template.xlsx"'
    return response
