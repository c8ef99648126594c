"""8D reports and their corrective and preventive actions (纠正预防措施, RULES.md §9).

The only writer of ``EightD`` and ``CapaAction``. Default due dates count working days on the
official calendar from when the action is recorded: a temporary measure 1 working day, a
permanent one (corrective, preventive) 7 — both set in the rule pack (``authority.capa``).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q

from kuaixiang import clock
from kuaixiang.complaints.selectors import complaints_visible
from kuaixiang.complaints.services import staff_of
from kuaixiang.errors import Conflict, InvalidInput, NotFound
from kuaixiang.org.models import Department
from kuaixiang.org.scope import scope_for
from kuaixiang.remedies.matrix import settings_get
from kuaixiang.remedies.models import CapaAction, CapaKind, EightD, EightDState

log = logging.getLogger(__name__)

TEXT_FIELDS = (
    "title",
    "product",
    "d2_problem",
    "d3_containment",
    "d4_root_cause",
    "d5_corrective",
    "d6_verification",
    "d7_prevention",
    "d8_closure",
)
COUNT_FIELDS = ("stock_checked", "stock_isolated")
MAX_TEXT = 10_000
MAX_ID = 2**62


def _clean_text(value, field: str, *, required: bool = False, limit: int = MAX_TEXT) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput("not_a_string", "应为文本", {"field": field})
    value = value.strip()
    if "\x00" in value:
        raise InvalidInput("nul_character", "内容不能包含空字符（\\u0000）", {"field": field})
    if required and not value:
        raise InvalidInput("field_required", "必填项缺失", {"field": field})
    if len(value) > limit:
        raise InvalidInput("text_too_long", f"内容过长，最多 {limit} 个字符", {"field": field})
    return value


def capa_due(kind: str, start: datetime) -> datetime | None:
    """Default due instant of an action of ``kind`` recorded at ``start`` (None without calendar data)."""
    from kuaixiang.sla.calendars import DEFAULT_CALENDAR, calendar_get
    from kuaixiang.sla.worktime import CalendarYearUnknown, Unit

    config = settings_get()
    days = config.capa_temporary_days if kind == CapaKind.TEMPORARY else config.capa_permanent_days
    try:
        return calendar_get(DEFAULT_CALENDAR).add(start, days, Unit.WORKING_DAYS)
    except (NotFound, CalendarYearUnknown) as exc:
        log.warning("CAPA due date not computed: %s", exc)
        return None


def _next_number(now: datetime) -> str:
    prefix = f"8D{now.astimezone(clock.SHANGHAI):%Y%m}"
    last = EightD.objects.filter(number__startswith=prefix).order_by("-number").values_list("number", flat=True).first()
    n = int(last[len(prefix) :]) + 1 if last else 1
    return f"{prefix}{n:04d}"


def eightd_visible(user):
    """8D reports whose department or one of whose complaints is in the user's scope."""
    scope = scope_for(user)
    if scope.everything:
        return EightD.objects.all()
    ids = complaints_visible(user).values("pk")
    return EightD.objects.filter(
        pk__in=EightD.objects.filter(Q(complaints__in=ids) | Q(department_id__in=scope.department_ids)).values("pk")
    )


def eightd_get(user, eightd_id: int) -> EightD:
    row = None
    if 1 <= eightd_id <= MAX_ID:
        row = eightd_visible(user).filter(pk=eightd_id).select_related("champion", "department", "created_by").first()
    if row is None:
        raise NotFound("eightd_not_found", "8D 报告不存在或不在您的数据范围内", {"id": eightd_id})
    return row


def _complaints(user, ids) -> list:
    try:
        ids = sorted({int(i) for i in ids})
    except (TypeError, ValueError):
        raise InvalidInput("invalid_complaint", "关联工单编号无效", {"field": "complaint_ids"}) from None
    if any(not 1 <= i <= MAX_ID for i in ids) or len(ids) > 100:
        raise InvalidInput("invalid_complaint", "关联工单编号无效（最多 100 张）", {"field": "complaint_ids"})
    found = list(complaints_visible(user).filter(pk__in=ids))
    if len(found) != len(ids) or not ids:
        raise InvalidInput("invalid_complaint", "至少关联一张您数据范围内的工单", {"field": "complaint_ids"})
    return found


@transaction.atomic
def eightd_open(*, actor, complaint_ids, title: str, product: str = "", department_id: int | None = None) -> EightD:
    """Open an 8D report for one or more visible complaints; the actor becomes its champion (D1)."""
    complaints = _complaints(actor, complaint_ids)
    title = _clean_text(title, "title", required=True, limit=200)
    product = _clean_text(product, "product", limit=200)
    staff = staff_of(actor)
    department = staff.department
    if department_id is not None:
        department = Department.objects.filter(pk=department_id).first()
        if department is None:
            raise InvalidInput("unknown_department", "部门不存在", {"field": "department_id"})
    now = clock.now()
    row = EightD.objects.create(
        number=_next_number(now),
        title=title,
        product=product,
        champion=actor,
        department=department,
        created_by=actor,
        created_at=now,
    )
    row.complaints.set(complaints)
    row.team.add(actor)
    return row


@transaction.atomic
def eightd_update(*, actor, eightd_id: int, data: dict) -> EightD:
    """Change the D2–D8 texts, stock counts, team (user ids) and linked complaints of an open report."""
    row = eightd_get(actor, eightd_id)
    if row.state != EightDState.OPEN:
        raise Conflict("eightd_closed", "8D 报告已关闭，不能修改")
    for field in TEXT_FIELDS:
        if field in data:
            setattr(row, field, _clean_text(data[field], field, required=field == "title"))
    for field in COUNT_FIELDS:
        if field in data and data[field] not in (None, ""):
            try:
                value = int(data[field])
            except (TypeError, ValueError):
                raise InvalidInput("not_an_integer", "应为整数", {"field": field}) from None
            if not 0 <= value <= 10**9:
                raise InvalidInput("out_of_range", "数量超出范围", {"field": field})
            setattr(row, field, value)
    if row.stock_isolated > row.stock_checked:
        raise InvalidInput("isolated_exceeds_checked", "隔离数量不能大于排查数量", {"field": "stock_isolated"})
    row.save()
    if "team_ids" in data:
        team = _users(data["team_ids"], "team_ids")
        row.team.set(team | {row.champion_id})
    if "complaint_ids" in data:
        row.complaints.set(_complaints(actor, data["complaint_ids"]))
    return row


def _users(ids, field: str) -> set[int]:
    try:
        wanted = {int(i) for i in ids}
    except (TypeError, ValueError):
        raise InvalidInput("invalid_user", "人员编号无效", {"field": field}) from None
    if any(not 1 <= i <= MAX_ID for i in wanted):
        raise InvalidInput("invalid_user", "人员编号无效", {"field": field})
    found = set(get_user_model().objects.filter(pk__in=wanted, is_active=True).values_list("pk", flat=True))
    if found != wanted:
        raise InvalidInput("invalid_user", "人员不存在或已停用", {"field": field})
    return found


@transaction.atomic
def capa_action_add(
    *, actor, eightd_id: int, kind: str, description: str, owner_id: int, due_at: datetime | None = None
) -> CapaAction:
    """Add a temporary, corrective or preventive action; its due date defaults to the working-day rule."""
    row = eightd_get(actor, eightd_id)
    if row.state != EightDState.OPEN:
        raise Conflict("eightd_closed", "8D 报告已关闭，不能修改")
    if kind not in CapaKind.values:
        raise InvalidInput("invalid_choice", "措施类型无效，可选：temporary、corrective、preventive", {"field": "kind"})
    description = _clean_text(description, "description", required=True)
    _users([owner_id], "owner_id")
    now = clock.now()
    if due_at is not None and (due_at.tzinfo is None or due_at < now - timedelta(days=366)):
        raise InvalidInput("invalid_due", "完成时限须为带时区的合理时间", {"field": "due_at"})
    return CapaAction.objects.create(
        eightd=row,
        kind=kind,
        description=description,
        owner_id=owner_id,
        due_at=due_at or capa_due(kind, now),
        created_at=now,
    )


@transaction.atomic
def capa_action_complete(*, actor, action_id: int, verified: bool = False, verification: str = "") -> CapaAction:
    """Mark an action done and record the verification of its effect (D6)."""
    action = CapaAction.objects.filter(pk=action_id).first() if 1 <= action_id <= MAX_ID else None
    if action is None:
        raise NotFound("capa_not_found", "措施不存在", {"id": action_id})
    eightd_get(actor, action.eightd_id)
    action.done_at = action.done_at or clock.now()
    action.verified = bool(verified)
    action.verification = _clean_text(verification, "verification")
    action.save(update_fields=["done_at", "verified", "verification"])
    return action


@transaction.atomic
def eightd_close(*, actor, eightd_id: int) -> EightD:
    """Close the report once D4 (root cause) and D8 are written and every action is done."""
    row = eightd_get(actor, eightd_id)
    if row.state != EightDState.OPEN:
        raise Conflict("eightd_closed", "8D 报告已关闭")
    missing = [f for f in ("d4_root_cause", "d5_corrective", "d8_closure") if not getattr(row, f)]
    if missing:
        raise Conflict(
            "eightd_incomplete", "关闭前须填写根本原因（D4）、纠正措施（D5）和总结（D8）", {"fields": missing}
        )
    if row.actions.filter(done_at__isnull=True).exists():
        raise Conflict("capa_open", "还有未完成的措施，不能关闭")
    row.state, row.closed_at = EightDState.CLOSED, clock.now()
    row.save(update_fields=["state", "closed_at"])
    return row
