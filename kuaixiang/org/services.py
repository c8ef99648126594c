"""Duty roster writers (值班表): shifts, rotations, swaps, Excel import, gap notices.

Only these functions write ``Shift``/``ShiftSwap``. Every writer checks that the actor may manage
the department's roster (:func:`roster_can_manage`) and refuses bad input with a 4xx
``DomainError`` before writing anything.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from kuaixiang import clock
from kuaixiang.errors import Conflict, DomainError, Forbidden, InvalidInput
from kuaixiang.org.models import Department, Shift, ShiftKind, ShiftSwap, ShiftTemplate
from kuaixiang.org.roles import Role
from kuaixiang.org.rotation import DAY_HOLIDAY, DAY_WEEKEND, DAY_WORKING, TemplateSpec, rotation_plan, shift_window
from kuaixiang.org.scope import scope_for, staff_record

# Roles that may edit the roster of a department in their scope.
ROSTER_MANAGERS = frozenset({Role.LEAD, Role.HEAD, Role.MANAGER, Role.LEADER, Role.ADMIN})
MAX_ROTATION_DAYS = 366
MAX_IMPORT_ROWS = 5000

# Excel layout (first sheet, header in row 1), documented in docs/duty.md.
IMPORT_COLUMNS = ("日期", "班次", "开始", "结束", "部门编码", "角色", "工号/用户名")


def roster_can_manage(user, department: Department) -> bool:
    """Superusers; or a lead/head/manager/leader/admin whose data scope covers ``department``."""
    if user.is_superuser:
        return True
    staff = staff_record(user)
    if staff is None or staff.role not in ROSTER_MANAGERS:
        return False
    return scope_for(user).covers_department(department.pk)


def _require_manage(actor, department: Department) -> None:
    if not roster_can_manage(actor, department):
        raise Forbidden("roster_forbidden", f"无权编辑{department.name}的值班表")


def _check_role(role: str) -> None:
    if role not in Role.values:
        raise InvalidInput("role_unknown", f"未知角色：{role}", {"role": role})


def _check_user(user) -> None:
    if not user.is_active:
        raise InvalidInput("user_inactive", f"{user.username} 已停用，不能排班", {"user": user.username})


def _window(day: date, start: time, end: time) -> tuple[datetime, datetime]:
    """UTC instants of a shift on local (Asia/Shanghai) ``day``."""
    starts_at, ends_at = shift_window(day, start, end, clock.SHANGHAI)
    return starts_at.astimezone(UTC), ends_at.astimezone(UTC)


def day_calendar(first: date, last: date) -> list[tuple[date, str, str]]:
    """``(date, type, reason)`` for each date from ``first`` to ``last``: type working / weekend /
    holiday by the working-day calendar (make-up working days count as working, closures as
    holidays) and its Chinese reason (工作日 / 周末 / 国庆节 …). For a year the calendar has no
    holiday data for, Saturdays and Sundays are weekends and the reason says the data is missing."""
    from kuaixiang.sla.calendars import calendar_days, day_reason

    out: list[tuple[date, str, str]] = []
    for year in range(first.year, last.year + 1):
        lo, hi = max(first, date(year, 1, 1)), min(last, date(year, 12, 31))
        try:
            infos = calendar_days(first=lo, last=hi)
        except DomainError as exc:
            if exc.code != "calendar_year_unknown":
                raise
            day = lo
            while day <= hi:
                weekend = day.weekday() >= 5
                out.append(
                    (
                        day,
                        DAY_WEEKEND if weekend else DAY_WORKING,
                        "周末（无节假日数据）" if weekend else "无节假日数据",
                    )
                )
                day += timedelta(days=1)
            continue
        for info in infos:
            if info.working:
                kind = DAY_WORKING
            elif info.kind == "weekend":
                kind = DAY_WEEKEND
            else:
                kind = DAY_HOLIDAY
            out.append((info.day, kind, day_reason(info)))
    return out


def day_types(first: date, last: date) -> list[tuple[date, str]]:
    """Each date from ``first`` to ``last`` as working / weekend / holiday (see :func:`day_calendar`)."""
    return [(day, kind) for day, kind, _ in day_calendar(first, last)]


def _kind_for(template_kind: str, day_type: str) -> str:
    if day_type == DAY_HOLIDAY:
        return ShiftKind.HOLIDAY
    if day_type == DAY_WEEKEND:
        return ShiftKind.WEEKEND
    return template_kind


@transaction.atomic
def shift_create(
    *,
    department: Department,
    role: str,
    user,
    day: date,
    start: time,
    end: time,
    actor,
    kind: str = ShiftKind.DAY,
    template: ShiftTemplate | None = None,
    note: str = "",
) -> Shift:
    """Put ``user`` on duty for ``role`` in ``department`` on local ``day`` from ``start`` to ``end``
    (past midnight when ``end <= start``). 409 when the same person already has that shift."""
    _require_manage(actor, department)
    _check_role(role)
    _check_user(user)
    if kind not in ShiftKind.values:
        raise InvalidInput("kind_unknown", f"未知班次类型：{kind}", {"kind": kind})
    starts_at, ends_at = _window(day, start, end)
    shift = Shift(
        date=day,
        start=start,
        end=end,
        starts_at=starts_at,
        ends_at=ends_at,
        department=department,
        role=role,
        user=user,
        kind=kind,
        template=template,
        note=note[:200],
    )
    try:
        with transaction.atomic():
            shift.save()
    except IntegrityError as exc:
        raise Conflict("shift_exists", f"{user.username} 在该时段已有相同值班") from exc
    return shift


@transaction.atomic
def shift_update(
    *, shift: Shift, actor, user=None, start: time | None = None, end: time | None = None, note: str | None = None
) -> Shift:
    """Change the person, times or note of a shift (the date, department and role stay)."""
    _require_manage(actor, shift.department)
    if user is not None:
        _check_user(user)
        shift.user = user
    if start is not None:
        shift.start = start
    if end is not None:
        shift.end = end
    if note is not None:
        shift.note = note[:200]
    shift.starts_at, shift.ends_at = _window(shift.date, shift.start, shift.end)
    try:
        with transaction.atomic():
            shift.save()
    except IntegrityError as exc:
        raise Conflict("shift_exists", "该人员在该时段已有相同值班") from exc
    return shift


@transaction.atomic
def shift_delete(*, shift: Shift, actor) -> None:
    _require_manage(actor, shift.department)
    shift.delete()


@transaction.atomic
def shift_swap(*, shift: Shift, to_user, approved_by, actor, reason: str = "") -> ShiftSwap:
    """Record a swap (换班): the shift passes to ``to_user``; ``approved_by`` must be a roster manager
    of the department. The shift row keeps its id, so links to it stay valid."""
    _require_manage(actor, shift.department)
    if not roster_can_manage(approved_by, shift.department):
        raise InvalidInput("approver_invalid", f"{approved_by.username} 无权批准该部门换班", {})
    _check_user(to_user)
    if to_user.pk == shift.user_id:
        raise InvalidInput("swap_same_person", "替班人与原值班人相同", {})
    swap = ShiftSwap(
        shift=shift,
        from_user_id=shift.user_id,
        to_user=to_user,
        approved_by=approved_by,
        reason=reason[:200],
        created_at=clock.now(),
    )
    shift_update(shift=shift, actor=actor, user=to_user)
    swap.save()
    return swap


@transaction.atomic
def shift_template_add(*, department: Department, template: ShiftTemplate, actor) -> ShiftTemplate:
    """Add one of the shifts ``department`` must staff (the gap check reads them); names are
    unique per role. Raise ``Conflict`` (``template_exists``) for a repeat."""
    _require_manage(actor, department)
    if ShiftTemplate.objects.filter(department=department, role=template.role, name=template.name).exists():
        raise Conflict("template_exists", "该角色已有同名班次模板", {"field": "name"})
    template.department = department
    template.save()
    return template


@transaction.atomic
def rotation_generate(
    *,
    department: Department,
    role: str,
    templates: list[ShiftTemplate],
    people: list,
    first: date,
    last: date,
    actor,
    block_days: int = 1,
    replace: bool = False,
) -> list[Shift]:
    """Generate shifts for ``templates`` (all of ``department`` and ``role``) from ``first`` to
    ``last`` inclusive, weekends and statutory holidays included, rotating ``people`` in the given
    order (each keeps a seat for ``block_days`` days, see :func:`rotation.rotation_plan`).

    Template days that already have shifts are skipped, or their shifts deleted first when
    ``replace``. Returns the created shifts."""
    _require_manage(actor, department)
    _check_role(role)
    if not templates:
        raise InvalidInput("templates_empty", "请至少选择一个班次模板", {})
    if not people:
        raise InvalidInput("people_empty", "请至少选择一名值班人员", {})
    for template in templates:
        if template.department_id != department.pk or template.role != role:
            raise InvalidInput("template_mismatch", f"班次模板“{template.name}”不属于该部门和角色", {})
    for user in people:
        _check_user(user)
    if last < first:
        raise InvalidInput("range_invalid", "结束日期早于开始日期", {})
    if (last - first).days + 1 > MAX_ROTATION_DAYS:
        raise InvalidInput("range_too_long", f"一次最多生成 {MAX_ROTATION_DAYS} 天", {})
    if block_days < 1 or block_days > 31:
        raise InvalidInput("block_invalid", "每人连续值班天数须在 1–31 之间", {})
    days = day_types(first, last)
    specs = [TemplateSpec(t.pk, t.days, t.min_staff) for t in templates]
    plan = rotation_plan(days, specs, [u.pk for u in people], block_days=block_days)
    by_id = {t.pk: t for t in templates}
    day_type = dict(days)
    existing = Shift.objects.filter(template__in=templates, date__gte=first, date__lte=last)
    if replace:
        existing.delete()
        taken = set()
    else:
        taken = set(existing.values_list("template_id", "date"))
    rows = []
    for seat in plan:
        if (seat.template, seat.day) in taken:
            continue
        template = by_id[seat.template]
        starts_at, ends_at = _window(seat.day, template.start, template.end)
        rows.append(
            Shift(
                date=seat.day,
                start=template.start,
                end=template.end,
                starts_at=starts_at,
                ends_at=ends_at,
                department=department,
                role=role,
                user_id=seat.person,
                kind=_kind_for(template.kind, day_type[seat.day]),
                template=template,
            )
        )
    return Shift.objects.bulk_create(rows, ignore_conflicts=False)


# ------------------------------------------------------------------ Excel import / template


@dataclass
class _Row:
    number: int
    values: dict


def _parse_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d"):
        try:
            return datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar date, no instant
        except ValueError:
            continue
    raise ValueError(f"日期格式应为 YYYY-MM-DD：{text or '（空）'}")


def _parse_time(value) -> time:
    if isinstance(value, datetime):
        return value.time().replace(second=0, microsecond=0)
    if isinstance(value, time):
        return value.replace(second=0, microsecond=0)
    text = str(value or "").strip()
    hh, sep, mm = text.partition(":")
    if sep and hh.isdigit() and mm[:2].isdigit() and int(hh) < 24 and int(mm[:2]) < 60:
        return time(int(hh), int(mm[:2]))
    raise ValueError(f"时间格式应为 HH:MM：{text or '（空）'}")


_KIND_BY_LABEL = {str(label): value for value, label in ShiftKind.choices} | {v: v for v in ShiftKind.values}
_ROLE_BY_LABEL = {str(label): value for value, label in Role.choices} | {v: v for v in Role.values}


def roster_import(*, data: bytes, actor) -> list[Shift]:
    """Import shifts from an .xlsx workbook (first sheet, header row ``IMPORT_COLUMNS``).

    ``班次`` is a shift type (白班/夜班/周末值班/节假日值班 or day/night/weekend/holiday) or the
    name of one of the department's shift templates; ``工号/用户名`` is a username. All rows are
    checked first: any bad row raises ``InvalidInput`` (code ``import_invalid``) with
    ``details.rows = [{row, errors}]`` using spreadsheet row numbers, and nothing is written."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a non-xlsx upload
        raise InvalidInput("import_unreadable", "无法读取 Excel 文件（需 .xlsx 格式）", {}) from exc
    sheet = book.worksheets[0]
    rows_iter = sheet.iter_rows(values_only=True)
    header = next(rows_iter, None)
    names = [str(c).strip() if c is not None else "" for c in (header or ())]
    missing = [c for c in IMPORT_COLUMNS if c not in names]
    if missing:
        raise InvalidInput("import_header", f"表头缺少列：{'、'.join(missing)}", {"missing": missing})
    index = {name: names.index(name) for name in IMPORT_COLUMNS}
    raw: list[_Row] = []
    for number, values in enumerate(rows_iter, start=2):
        if values is None or all(v is None or str(v).strip() == "" for v in values):
            continue
        raw.append(_Row(number, {c: (values[i] if i < len(values) else None) for c, i in index.items()}))
        if len(raw) > MAX_IMPORT_ROWS:
            raise InvalidInput("import_too_large", f"一次最多导入 {MAX_IMPORT_ROWS} 行", {})
    if not raw:
        raise InvalidInput("import_empty", "表格中没有数据行", {})
    codes = {str(r.values["部门编码"] or "").strip() for r in raw}
    usernames = {str(r.values["工号/用户名"] or "").strip() for r in raw}
    departments = {d.code: d for d in Department.objects.filter(code__in=codes)}
    users = {u.username: u for u in get_user_model().objects.filter(username__in=usernames)}
    templates = {(t.department_id, t.role, t.name): t for t in ShiftTemplate.objects.filter(department__code__in=codes)}
    errors: list[dict] = []
    parsed: list[dict] = []
    seen: set[tuple] = set()
    for row in raw:
        v, problems, item = row.values, [], {}
        try:
            item["day"] = _parse_date(v["日期"])
        except ValueError as exc:
            problems.append(str(exc))
        for col, key in (("开始", "start"), ("结束", "end")):
            try:
                item[key] = _parse_time(v[col])
            except ValueError as exc:
                problems.append(f"{col}：{exc}")
        code = str(v["部门编码"] or "").strip()
        department = departments.get(code)
        if department is None:
            problems.append(f"部门编码不存在：{code or '（空）'}")
        elif not roster_can_manage(actor, department):
            problems.append(f"无权编辑{department.name}的值班表")
        role = _ROLE_BY_LABEL.get(str(v["角色"] or "").strip())
        if role is None:
            problems.append(f"角色不存在：{v['角色'] or '（空）'}")
        username = str(v["工号/用户名"] or "").strip()
        user = users.get(username)
        if user is None:
            problems.append(f"用户不存在：{username or '（空）'}")
        elif not user.is_active:
            problems.append(f"用户已停用：{username}")
        label = str(v["班次"] or "").strip()
        template = templates.get((department.pk, role, label)) if department and role else None
        kind = template.kind if template else _KIND_BY_LABEL.get(label)
        if kind is None:
            problems.append(f"班次应为白班/夜班/周末值班/节假日值班或本部门班次模板名：{label or '（空）'}")
        if not problems:
            key = (user.pk, department.pk, role, item["day"], item["start"])
            if key in seen:
                problems.append("与前面的行重复")
            seen.add(key)
            item.update(department=department, role=role, user=user, kind=kind, template=template)
            parsed.append((row.number, item))
        if problems:
            errors.append({"row": row.number, "errors": problems})
    if errors:
        raise InvalidInput("import_invalid", f"{len(errors)} 行有错误，未导入任何数据", {"rows": errors})
    created = []
    with transaction.atomic():
        for number, item in parsed:
            try:
                created.append(shift_create(actor=actor, **item))
            except Conflict as exc:
                rows = [{"row": number, "errors": ["该人员在该时段已有相同值班"]}]
                raise InvalidInput(
                    "import_invalid", f"第 {number} 行与已有值班重复，未导入任何数据", {"rows": rows}
                ) from exc
    return created


def roster_template_xlsx() -> bytes:
    """An empty import workbook with the header row, one example row and a notes sheet."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "值班表"
    sheet.append(list(IMPORT_COLUMNS))
    today = clock.local_now().date()
    sheet.append([today.isoformat(), "白班", "08:30", "17:30", "hq-centre", "班长", "lead"])
    for column, width in zip("ABCDEFG", (12, 12, 8, 8, 16, 10, 14), strict=True):
        sheet.column_dimensions[column].width = width
    notes = book.create_sheet("说明")
    for line in (
        "日期：YYYY-MM-DD；开始/结束：HH:MM，结束早于或等于开始表示跨午夜到次日。",
        "班次：白班/夜班/周末值班/节假日值班，或本部门已有的班次模板名称。",
        "部门编码：组织管理中的部门编码；角色：中文名（如 班长、部门负责人）或代码（lead、head）。",
        "工号/用户名：系统登录用户名。任何一行有错误时整个文件不导入，并按行号列出错误。",
    ):
        notes.append([line])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# ------------------------------------------------------------------ gap notices


@transaction.atomic
def gaps_notify(*, now: datetime | None = None, days: int = 7) -> int:
    """Tell each department head (部门负责人; the unit's managers when the department has no head)
    about the roster gaps in the coming ``days`` days, one in-app message plus e-mail per
    department with gaps. Returns the number of departments notified."""
    from kuaixiang.notify.services import notifications_send
    from kuaixiang.org.duty import staff_with_role
    from kuaixiang.org.selectors import duty_gaps

    now = now or clock.now()
    first = now.astimezone(clock.SHANGHAI).date()
    last = first + timedelta(days=days - 1)
    notified = 0
    department_ids = ShiftTemplate.objects.filter(required=True).values_list("department_id", flat=True).distinct()
    for department in Department.objects.filter(pk__in=list(department_ids), active=True):
        gaps = [g for g in duty_gaps(department=department, first=first, last=last) if g.ends_at > now]
        if not gaps:
            continue
        heads = list(
            get_user_model().objects.filter(is_active=True, staff__role=Role.HEAD, staff__department=department)
        ) or staff_with_role(role=Role.MANAGER, department=department)
        lines = [f"{g.day:%m-%d} {g.template.name}（{g.role_label}）缺 {g.need - g.have} 人" for g in gaps[:50]]
        more = f"\n……共 {len(gaps)} 处" if len(gaps) > 50 else ""
        notifications_send(
            users=heads,
            subject=f"值班缺口：{department.name} 未来{days}天 {len(gaps)} 处",
            body="\n".join(lines) + more,
            link=f"/duty/{department.code}/?gaps=1",
        )
        notified += 1
    return notified


# ------------------------------------------------------------------ demo roster

# (department code suffix, role, template name, kind, start, end, days); "leaders" rosters HQ leaders.
DEMO_TEMPLATES = (
    ("centre", Role.LEAD, "白班", ShiftKind.DAY, time(8, 30), time(17, 30), ShiftTemplate.Days.ALL),
    ("centre", Role.LEAD, "夜班", ShiftKind.NIGHT, time(17, 30), time(8, 30), ShiftTemplate.Days.ALL),
    ("centre", Role.MANAGER, "休息日值班", ShiftKind.WEEKEND, time(9, 0), time(18, 0), ShiftTemplate.Days.OFF),
    ("network", Role.HANDLER, "夜间待命", ShiftKind.NIGHT, time(18, 0), time(8, 0), ShiftTemplate.Days.ALL),
    ("leaders", Role.LEADER, "带班领导", ShiftKind.DAY, time(8, 0), time(8, 0), ShiftTemplate.Days.ALL),
)
# The demo leaves the last days of the network night stand-by open so the gap check has something to show.
DEMO_NETWORK_GAP_DAYS = 2


def roster_demo(*, departments, actor, first: date, days: int = 14) -> list[Shift]:
    """Shift templates and a rotation from ``first`` for ``days`` days for the demo organisation:
    leads (day and night) and the manager on off days at every complaint centre, handlers' night
    stand-by at each network department (its last ``DEMO_NETWORK_GAP_DAYS`` days left open: a
    visible gap) and a 24-hour duty leader at HQ. ``departments`` are the demo's Department rows;
    ``actor`` a superuser."""
    from kuaixiang.org.models import Staff

    by_code = {d.code: d for d in departments}
    created: list[Shift] = []
    last = first + timedelta(days=days - 1)
    groups: dict[tuple[int, str], list[ShiftTemplate]] = {}
    for suffix, role, name, kind, start, end, applies in DEMO_TEMPLATES:
        for code, department in by_code.items():
            if not code.endswith(f"-{suffix}"):
                continue
            template, _ = ShiftTemplate.objects.get_or_create(
                department=department,
                role=role,
                name=name,
                defaults={"kind": kind, "start": start, "end": end, "days": applies},
            )
            groups.setdefault((department.pk, role), []).append(template)
    for (department_id, role), templates in groups.items():
        department = next(d for d in departments if d.pk == department_id)
        people = [
            s.user for s in Staff.objects.filter(department=department, role=role).select_related("user").order_by("pk")
        ]
        if not people:
            continue
        until = last - timedelta(days=DEMO_NETWORK_GAP_DAYS) if role == Role.HANDLER else last
        created += rotation_generate(
            department=department, role=role, templates=templates, people=people, first=first, last=until, actor=actor
        )
    return created
