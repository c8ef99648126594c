"""Accountability (责任追究, RULES.md §13): findings against people, penalties, approval and reports.

A finding names the responsible person (their department and direct manager are taken from the
organisation), the facts, a fine and whether the month's performance is set to zero — for the
person *and* their manager. A manager, leader or admin records it; a leader or admin (not the
recorder) approves it. Reports count approved findings per person and per department.
"""

from collections import defaultdict
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Count, Q, Sum

from kuaixiang import clock
from kuaixiang.complaints.selectors import complaints_visible
from kuaixiang.complaints.services import staff_of
from kuaixiang.errors import Conflict, Forbidden, InvalidInput, NotFound
from kuaixiang.org.models import Staff
from kuaixiang.org.roles import Role
from kuaixiang.org.scope import scope_for
from kuaixiang.remedies.models import Accountability, AccountabilityState
from kuaixiang.remedies.services import valid_id

RECORDERS = frozenset({Role.MANAGER, Role.LEADER, Role.ADMIN})
APPROVERS = frozenset({Role.LEADER, Role.ADMIN})
MAX_FINE = Decimal("100000")
# Whose manager is whom: the person's department head, for a head the unit's leader.
MANAGER_ROLE = {Role.HEAD: Role.LEADER, Role.MANAGER: Role.LEADER, Role.AGENT: Role.LEAD, Role.LEAD: Role.MANAGER}


def manager_of(staff: Staff):
    """The person's direct manager in the organisation tree (None when nobody holds that role)."""
    from kuaixiang.remedies.services import approvers_at

    role = MANAGER_ROLE.get(staff.role, Role.HEAD)
    _, people = approvers_at(role, staff.department, exclude_user_id=staff.user_id)
    return people[0] if people else None


def accountability_visible(user):
    scope = scope_for(user)
    if scope.everything:
        return Accountability.objects.all()
    return Accountability.objects.filter(Q(department_id__in=scope.department_ids) | Q(person=user))


@transaction.atomic
def accountability_record(
    *,
    actor,
    person_id: int,
    finding: str,
    fine: Decimal | str | int = 0,
    zero_performance: bool = False,
    complaint_id: int | None = None,
    month: date | None = None,
) -> Accountability:
    """Record a finding (state draft). Raise Forbidden for roles that may not, InvalidInput for bad data."""
    if staff_of(actor).role not in RECORDERS:
        raise Forbidden("not_allowed", "只有投诉管理员、领导或系统管理员可以登记责任追究")
    staff = None
    if valid_id(person_id):
        staff = Staff.objects.select_related("department", "user").filter(user_id=person_id).first()
    if staff is None:
        raise InvalidInput("unknown_person", "责任人不存在", {"field": "person_id"})
    if not scope_for(actor).covers_department(staff.department_id):
        raise InvalidInput("unknown_person", "责任人不在您的数据范围内", {"field": "person_id"})
    finding = (finding or "").strip()
    if not finding or "\x00" in finding or len(finding) > 5000:
        raise InvalidInput("finding_required", "请填写认定事实（最多 5000 字）", {"field": "finding"})
    try:
        fine = Decimal(str(fine or 0)).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise InvalidInput("invalid_fine", "罚款金额应为数字", {"field": "fine"}) from None
    if not fine.is_finite() or fine < 0 or fine > MAX_FINE:
        raise InvalidInput("invalid_fine", f"罚款金额应在 0–{MAX_FINE} 元之间", {"field": "fine"})
    complaint = None
    if complaint_id is not None:
        complaint = complaints_visible(actor).filter(pk=complaint_id).first() if valid_id(complaint_id) else None
        if complaint is None:
            raise InvalidInput("invalid_complaint", "工单不存在或不在您的数据范围内", {"field": "complaint_id"})
    now = clock.now()
    return Accountability.objects.create(
        complaint=complaint,
        person=staff.user,
        department=staff.department,
        manager=manager_of(staff),
        finding=finding,
        fine=fine,
        zero_performance=bool(zero_performance),
        month=(month or now.astimezone(clock.SHANGHAI).date()).replace(day=1),
        created_by=actor,
        created_at=now,
    )


@transaction.atomic
def accountability_approve(*, actor, accountability_id: int) -> Accountability:
    """A leader or admin other than the recorder approves the finding; the penalty then counts."""
    row = accountability_visible(actor).filter(pk=accountability_id).first() if valid_id(accountability_id) else None
    if row is None:
        raise NotFound("accountability_not_found", "记录不存在或不在您的数据范围内", {"id": accountability_id})
    if staff_of(actor).role not in APPROVERS:
        raise Forbidden("not_allowed", "只有领导或系统管理员可以批准责任追究")
    if row.created_by_id == actor.pk:
        raise Forbidden("self_approval", "登记人不能批准自己登记的责任追究")
    now = clock.now()
    updated = Accountability.objects.filter(pk=row.pk, state=AccountabilityState.DRAFT).update(
        state=AccountabilityState.APPROVED, approved_by=actor, approved_at=now
    )
    if updated != 1:
        raise Conflict("already_approved", "该记录已批准")
    row.refresh_from_db()
    return row


def accountability_report(user, *, month: date | None = None) -> dict:
    """Approved findings per person and per department, and who has performance set to zero."""
    rows = accountability_visible(user).filter(state=AccountabilityState.APPROVED)
    if month:
        rows = rows.filter(month=month.replace(day=1))
    by_person = list(
        rows.values("person__id", "person__first_name", "person__username", "department__name")
        .annotate(count=Count("id"), fines=Sum("fine"), zeroed=Count("id", filter=Q(zero_performance=True)))
        .order_by("-count", "person__username")
    )
    by_department = list(
        rows.values("department__id", "department__name")
        .annotate(count=Count("id"), fines=Sum("fine"), people=Count("person", distinct=True))
        .order_by("-count", "department__name")
    )
    zeroed: dict[tuple, set[str]] = defaultdict(set)
    for row in rows.filter(zero_performance=True).select_related("person", "manager"):
        for who, why in ((row.person, "责任人"), (row.manager, "直接主管")):
            if who is not None:
                zeroed[(row.month, who.get_full_name() or who.username)].add(why)
    return {
        "by_person": by_person,
        "by_department": by_department,
        "zeroed": sorted(((m, name, "、".join(sorted(why))) for (m, name), why in zeroed.items()), reverse=True),
    }
