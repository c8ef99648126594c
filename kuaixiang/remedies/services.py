"""Remedy requests, approval chains, delegation and the escalation of late approvals.

The only writer of ``Remedy``, ``ApprovalStep``, ``RemedyEvent``, ``AuthorityLedger`` and
``Delegation``. Web views and the API call these functions; see docs/remedies.md.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum

from kuaixiang import clock
from kuaixiang.complaints.lifecycle import State
from kuaixiang.complaints.selectors import complaint_detail
from kuaixiang.complaints.services import staff_of
from kuaixiang.errors import Conflict, Forbidden, InvalidInput, NotFound
from kuaixiang.org.models import Department, Staff
from kuaixiang.org.roles import Role
from kuaixiang.remedies import authority
from kuaixiang.remedies.inputs import RemedyInput, parse_remedy_input
from kuaixiang.remedies.matrix import chain_template_for, limits_for, settings_get
from kuaixiang.remedies.models import (
    LIVE_STATES,
    PAYOUT_TYPES,
    ApprovalStep,
    AuthorityLedger,
    ChainPlace,
    Delegation,
    Remedy,
    RemedyEvent,
    RemedyState,
    StepState,
)

log = logging.getLogger(__name__)

ACTIONS = ("approve", "reject", "return")
STEP_RESULT = {"approve": StepState.APPROVED, "reject": StepState.REJECTED, "return": StepState.RETURNED}
REMEDY_RESULT = {"reject": RemedyState.REJECTED, "return": RemedyState.RETURNED}
ACTION_LABELS = {"approve": "同意", "reject": "驳回", "return": "退回"}
# Complaints in these states take no new remedy.
CLOSED_TO_REMEDIES = (State.REFUSED, State.MERGED)
# Who may execute an approved remedy besides its requester.
EXECUTORS = frozenset({Role.MANAGER, Role.ADMIN})


def local_today(now: datetime | None = None) -> date:
    return (now or clock.now()).astimezone(clock.SHANGHAI).date()


def month_of(now: datetime) -> date:
    return local_today(now).replace(day=1)


def _event(remedy: Remedy, *, actor, now: datetime, action: str, before: str, comment: str = "", **payload) -> None:
    RemedyEvent.objects.create(
        remedy=remedy,
        actor=actor,
        at=now,
        action=action,
        from_state=before,
        to_state=remedy.state,
        comment=comment,
        payload=payload,
    )


def _notify(users, remedy: Remedy, subject: str, body: str) -> None:
    from kuaixiang.notify.services import notifications_send

    users = [u for u in users if u is not None]
    if users:
        notifications_send(
            users=users,
            subject=f"【{remedy.complaint.number}】{subject}",
            body=body,
            link=f"/remedies/{remedy.pk}/",
            complaint=remedy.complaint,
        )


def _describe(remedy: Remedy) -> str:
    return (
        f"{remedy.get_type_display()} ¥{remedy.amount}（{remedy.get_responsibility_display()}）\n"
        f"理由：{remedy.justification[:200]}"
    )


# ---------------------------------------------------------------- approvers from the organisation tree


def _unit_of(path: str, units: frozenset[int]) -> int | None:
    """The id of the deepest branch/HQ on a materialised ``path`` (``units``: ids of those nodes)."""
    for part in reversed(path.strip("/").split("/")):
        if part and int(part) in units:
            return int(part)
    return None


class ApproverFinder:
    """Finds approvers in the organisation tree with a fixed number of queries per operation:
    the unit nodes once, each ancestor chain once, and the staff of each role once."""

    def __init__(self) -> None:
        self._units: frozenset[int] | None = None
        self._staff: dict[str, list[Staff]] = {}
        self._nodes: dict[int, Department] = {}

    def _unit_ids(self) -> frozenset[int]:
        if self._units is None:
            levels = [Department.Level.BRANCH, Department.Level.HQ]
            self._units = frozenset(Department.objects.filter(level__in=levels).values_list("pk", flat=True))
        return self._units

    def _of_role(self, role: str) -> list[Staff]:
        if role not in self._staff:
            self._staff[role] = list(
                Staff.objects.filter(role=role, user__is_active=True)
                .select_related("department", "user")
                .order_by("user_id")
            )
        return self._staff[role]

    def _ancestry(self, start: Department) -> list[Department]:
        """``start`` and its ancestors, nearest first."""
        ids = [int(part) for part in start.path.strip("/").split("/") if part]
        missing = [pk for pk in ids if pk not in self._nodes]
        if missing:
            self._nodes.update(Department.objects.in_bulk(missing))
        return [self._nodes[pk] for pk in reversed(ids) if pk in self._nodes]

    def find(self, role: str, start: Department, *, exclude_user_id: int | None) -> tuple[Department, list]:
        """The nearest place at or above ``start`` holding active staff of ``role`` in the same unit,
        and those people (without ``exclude_user_id``); ``(start, [])`` when nobody holds it."""
        units = self._unit_ids()
        candidates = [s for s in self._of_role(role) if s.user_id != exclude_user_id]
        for node in self._ancestry(start):
            node_unit = _unit_of(node.path, units)
            people = [
                s.user
                for s in candidates
                if s.department.path.startswith(node.path) and _unit_of(s.department.path, units) == node_unit
            ]
            if people:
                return node, people
        return start, []


def approvers_at(role: str, start: Department, *, exclude_user_id: int | None) -> tuple[Department, list]:
    """One-off lookup with :class:`ApproverFinder` (see ``ApproverFinder.find``)."""
    return ApproverFinder().find(role, start, exclude_user_id=exclude_user_id)


def _place_start(place: str, *, requester_department: Department, complaint) -> Department:
    if place == ChainPlace.RESPONSIBLE:
        return complaint.department or complaint.intake_department
    if place == ChainPlace.UNIT:
        return requester_department.unit()
    if place == ChainPlace.HQ:
        return Department.objects.filter(parent__isnull=True).order_by("pk").first() or requester_department
    return requester_department


def _step_due(now: datetime) -> tuple[datetime | None, datetime | None]:
    """The deadline of a step started at ``now`` on the working-day calendar, and when to check it."""
    from kuaixiang.sla.calendars import DEFAULT_CALENDAR, calendar_get
    from kuaixiang.sla.worktime import CalendarYearUnknown

    config = settings_get()
    try:
        due = calendar_get(DEFAULT_CALENDAR).add(now, float(config.step_amount), config.step_unit)
    except (NotFound, CalendarYearUnknown) as exc:
        log.warning("approval step deadline not computed: %s", exc)
        return None, None
    return due, due


def _delegates_of(user_ids, today: date) -> list:
    ids = Delegation.objects.filter(principal_id__in=list(user_ids), starts_on__lte=today, ends_on__gte=today)
    return list(get_user_model().objects.filter(pk__in=ids.values("delegate_id"), is_active=True))


def _activate(step: ApprovalStep, remedy: Remedy, now: datetime, approvers: list | None = None) -> None:
    """Start ``step`` with its deadline and tell its approvers and their delegates of today."""
    step.state = StepState.ACTIVE
    step.started_at = now
    step.due_at, step.next_check_at = _step_due(now)
    step.save(update_fields=["state", "started_at", "due_at", "next_check_at"])
    approvers = list(step.approvers.all()) if approvers is None else approvers
    due = step.due_at.astimezone(clock.SHANGHAI).strftime("%Y-%m-%d %H:%M") if step.due_at else "未计算"
    _notify(
        approvers + _delegates_of([u.pk for u in approvers], local_today(now)),
        remedy,
        f"待您审批：{remedy.get_type_display()} ¥{remedy.amount}",
        _describe(remedy) + f"\n审批时限：{due}",
    )


# ---------------------------------------------------------------- request and routing


@dataclass
class Route:
    """How a request was routed: decided alone (``alone``) or the chain's planned levels."""

    alone: bool
    reason: str = ""
    chain_name: str = ""
    skipped: list[str] = field(default_factory=list)


def _granted_on_complaint(remedy: Remedy) -> Decimal:
    total = (
        Remedy.objects.filter(
            complaint_id=remedy.complaint_id,
            type=remedy.type,
            state__in=[RemedyState.APPROVED, RemedyState.EXECUTED],
        )
        .exclude(pk=remedy.pk)
        .aggregate(total=Sum("amount"))["total"]
    )
    return total or Decimal(0)


def _ledger_take(*, user_id: int, month: date, remedy_type: str, amount: Decimal, ceiling: Decimal | None) -> bool:
    """Add ``amount`` to the person's monthly counter if it stays within ``ceiling``; atomic on
    both databases (a conditional UPDATE: concurrent requests cannot both pass the limit)."""
    AuthorityLedger.objects.bulk_create(
        [AuthorityLedger(user_id=user_id, month=month, remedy_type=remedy_type)], ignore_conflicts=True
    )
    rows = AuthorityLedger.objects.filter(user_id=user_id, month=month, remedy_type=remedy_type)
    if ceiling is not None:
        rows = rows.filter(used__lte=ceiling - amount)
    return rows.update(used=F("used") + amount) == 1


def _route(remedy: Remedy, *, staff: Staff, now: datetime) -> Route:
    """Approve ``remedy`` on the requester's own authority, or build and start its chain."""
    limits = limits_for(remedy.type, staff.department)
    own = limits.get(staff.role)
    granted = _granted_on_complaint(remedy)
    verdict = authority.verdict(
        own, amount=remedy.amount, complaint_total=granted, policy_exception=remedy.policy_exception
    )
    if verdict.alone:
        ceiling = own.per_month if own else None
        if _ledger_take(
            user_id=remedy.requested_by_id,
            month=month_of(now),
            remedy_type=remedy.type,
            amount=remedy.amount,
            ceiling=ceiling,
        ):
            remedy.state, remedy.self_approved, remedy.decided_at = RemedyState.APPROVED, True, now
            remedy.chain_name = ""
            return Route(alone=True)
        verdict = authority.Verdict(False, "per_month")

    template = chain_template_for(remedy.type, remedy.amount)
    if template is not None:
        specs = [(s.role, s.place) for s in template.steps.all()]
        name = template.name
    else:
        roles = authority.ladder(
            limits.values(), requester=own, amount=granted + remedy.amount, policy_exception=remedy.policy_exception
        )
        specs = [(role, ChainPlace.REQUESTER) for role in roles]
        name = "逐级审批"
    if not specs:
        raise Conflict(
            "no_authority",
            "授权矩阵中没有角色可以批准该金额，请联系系统管理员配置授权",
            {"type": remedy.type, "amount": str(remedy.amount)},
        )
    steps: list[tuple[ApprovalStep, list]] = []
    skipped: list[str] = []
    previous: set[int] = set()
    finder = ApproverFinder()
    for role, place in specs:
        start = _place_start(place, requester_department=staff.department, complaint=remedy.complaint)
        node, people = finder.find(role, start, exclude_user_id=remedy.requested_by_id)
        ids = {u.pk for u in people}
        if not people or ids == previous:
            skipped.append(role)
            continue
        previous = ids
        steps.append(
            (
                ApprovalStep(remedy=remedy, round=remedy.round, order=len(steps) + 1, role=role, place=node),
                people,
            )
        )
    if not steps:
        raise Conflict("no_approver", "组织架构中找不到审批人，请先在后台配置相应角色的人员", {"roles": skipped})
    remedy.state, remedy.self_approved, remedy.chain_name = RemedyState.PENDING, False, name
    created = ApprovalStep.objects.bulk_create([step for step, _ in steps])
    Through = ApprovalStep.approvers.through
    Through.objects.bulk_create(
        [
            Through(approvalstep_id=step.pk, user_id=u.pk)
            for step, (_, people) in zip(created, steps, strict=True)
            for u in people
        ]
    )
    _activate(created[0], remedy, now, approvers=steps[0][1])
    return Route(alone=False, reason=verdict.reason, chain_name=name, skipped=skipped)


def _live_payout_exists(complaint_id: int, remedy_type: str, exclude: int | None = None) -> bool:
    rows = Remedy.objects.filter(complaint_id=complaint_id, type=remedy_type, state__in=LIVE_STATES)
    if exclude:
        rows = rows.exclude(pk=exclude)
    return rows.exists()


DUPLICATE = ("already_requested", "该工单已有同类退费/补偿申请（审批中、已批准或已执行），不能重复支付")


@transaction.atomic
def remedy_request(*, complaint_id: int, actor, data: RemedyInput | dict) -> Remedy:
    """Request a remedy on a complaint the actor can see.

    Within the actor's authority (per complaint and per month) it is approved at once;
    otherwise a chain is built from the matrix and the organisation tree and its first step
    starts with a working-time deadline. Raise InvalidInput (bad data), NotFound (complaint
    outside scope), Conflict (complaint refused/merged, a live refund or compensation already
    on it, nobody to approve).
    """
    if not isinstance(data, RemedyInput):
        data = parse_remedy_input(data)
    complaint = complaint_detail(actor, complaint_id)
    if complaint.state in CLOSED_TO_REMEDIES:
        raise Conflict("complaint_closed", "已不予受理或已合并的工单不能申请补偿", {"status": complaint.status})
    staff = staff_of(actor)
    if data.type in PAYOUT_TYPES and _live_payout_exists(complaint.pk, data.type):
        raise Conflict(*DUPLICATE, {"type": data.type})
    now = clock.now()
    remedy = Remedy(
        complaint=complaint,
        type=data.type,
        amount=data.amount,
        responsibility=data.responsibility,
        justification=data.justification,
        policy_exception=data.policy_exception,
        state=RemedyState.PENDING,
        requested_by=actor,
        department=staff.department,
        unit=staff.department.unit(),
        created_at=now,
    )
    try:
        with transaction.atomic():
            remedy.save()
    except IntegrityError:
        raise Conflict(*DUPLICATE, {"type": data.type}) from None
    route = _route(remedy, staff=staff, now=now)
    remedy.save()
    if route.alone:
        _event(remedy, actor=actor, now=now, action="approve_alone", before="", amount=str(remedy.amount))
    else:
        _event(remedy, actor=actor, now=now, action="request", before="", reason=route.reason, skipped=route.skipped)
    return remedy


# ---------------------------------------------------------------- decisions


def acting_for(step: ApprovalStep, actor, today: date) -> tuple[bool, int | None]:
    """``(may_decide, principal_id)``: the actor is an approver of ``step`` (principal None) or the
    delegate, today, of one of them (principal that approver)."""
    approver_ids = set(step.approvers.values_list("pk", flat=True))
    if actor.pk in approver_ids:
        return True, None
    delegation = (
        Delegation.objects.filter(
            delegate=actor, principal_id__in=approver_ids, starts_on__lte=today, ends_on__gte=today
        )
        .order_by("pk")
        .first()
    )
    return (True, delegation.principal_id) if delegation else (False, None)


MAX_ID = 2**62


def valid_id(value: int) -> bool:
    """Whether ``value`` can be a primary key (larger integers overflow SQLite's INTEGER)."""
    return isinstance(value, int) and 1 <= value <= MAX_ID


def remedy_for_actor(actor, remedy_id: int) -> Remedy:
    """The remedy if the actor may see it: its complaint is in their scope, or they are (or stand in
    for) one of its approvers. NotFound otherwise."""
    from kuaixiang.complaints.selectors import complaints_visible

    remedy = None
    if valid_id(remedy_id):
        remedy = (
            Remedy.objects.select_related("complaint", "requested_by", "department", "unit")
            .filter(pk=remedy_id)
            .first()
        )
    if remedy is not None:
        # Approvers first: one query, and usually the case when someone decides.
        today = local_today()
        principals = Delegation.objects.filter(delegate=actor, starts_on__lte=today, ends_on__gte=today).values(
            "principal_id"
        )
        if ApprovalStep.objects.filter(Q(approvers=actor) | Q(approvers__in=principals), remedy_id=remedy.pk).exists():
            return remedy
        if complaints_visible(actor).filter(pk=remedy.complaint_id).exists():
            return remedy
    raise NotFound("remedy_not_found", "补偿申请不存在或不在您的数据范围内", {"id": remedy_id})


@transaction.atomic
def remedy_decide(*, remedy_id: int, actor, action: str, comment: str = "") -> Remedy:
    """Approve, reject or return the remedy's current step as its approver or their delegate.

    The step is claimed with a compare-and-set (``state=active``): of two simultaneous decisions
    exactly one wins, the other gets Conflict ``step_already_decided``. Approving the last step
    approves the remedy; a rejection ends the chain; a return sends it back to the requester.
    Raise NotFound, InvalidInput (unknown action, missing comment), Forbidden (not the current
    approver or their delegate), Conflict (not pending).
    """
    if action not in ACTIONS:
        raise InvalidInput("unknown_action", "操作无效，可选：approve（同意）、reject（驳回）、return（退回）")
    comment = (comment or "").strip()
    if "\x00" in comment:
        raise InvalidInput("nul_character", "内容不能包含空字符（\\u0000）")
    if action != "approve" and not comment:
        raise InvalidInput("comment_required", "驳回或退回时必须填写意见", {"field": "comment"})
    remedy = remedy_for_actor(actor, remedy_id)
    if remedy.state != RemedyState.PENDING:
        raise Conflict("remedy_not_pending", "该申请不在审批中", {"state": remedy.state})
    step = (
        ApprovalStep.objects.filter(remedy=remedy, round=remedy.round, state=StepState.ACTIVE).order_by("order").first()
    )
    if step is None:
        raise Conflict("remedy_not_pending", "该申请没有待审批的步骤", {"state": remedy.state})
    now = clock.now()
    allowed, principal_id = acting_for(step, actor, local_today(now))
    if not allowed:
        raise Forbidden("not_current_approver", "您不是当前步骤的审批人，也不是其代理人", {"step": step.order})
    claimed = ApprovalStep.objects.filter(pk=step.pk, state=StepState.ACTIVE).update(
        state=STEP_RESULT[action],
        decided_by=actor,
        on_behalf_of_id=principal_id,
        decided_at=now,
        comment=comment,
        next_check_at=None,
    )
    if claimed != 1:
        raise Conflict("step_already_decided", "该步骤已由他人处理，请刷新后查看", {"step": step.order})
    before = remedy.state
    follower = None
    if action == "approve":
        follower = (
            ApprovalStep.objects.filter(
                remedy=remedy, round=remedy.round, order__gt=step.order, state=StepState.WAITING
            )
            .order_by("order")
            .first()
        )
    if follower is None:
        remedy.state = RemedyState.APPROVED if action == "approve" else REMEDY_RESULT[action]
        remedy.decided_at = now
        updated = Remedy.objects.filter(pk=remedy.pk, state=RemedyState.PENDING).update(
            state=remedy.state, decided_at=now
        )
        if updated != 1:
            raise Conflict("remedy_not_pending", "该申请不在审批中", {"state": remedy.state})
        ApprovalStep.objects.filter(remedy=remedy, round=remedy.round, state=StepState.WAITING).update(
            state=StepState.CANCELLED
        )
    payload = {"step": step.order, "role": step.role}
    if principal_id:
        payload["on_behalf_of"] = principal_id
    _event(remedy, actor=actor, now=now, action=action, before=before, comment=comment, **payload)
    if follower is not None:
        _activate(follower, remedy, now)
    else:
        label = {"approve": "已批准", "reject": "已驳回", "return": "已退回，请修改后重新提交"}[action]
        _notify([remedy.requested_by], remedy, f"补偿申请{label}", _describe(remedy) + f"\n意见：{comment or '同意'}")
    return remedy


@transaction.atomic
def remedy_resubmit(
    *, remedy_id: int, actor, amount: Decimal | None = None, justification: str | None = None
) -> Remedy:
    """The requester sends a returned remedy again (optionally amended): a new round is routed."""
    remedy = remedy_for_actor(actor, remedy_id)
    if remedy.requested_by_id != actor.pk:
        raise Forbidden("not_requester", "只有申请人可以重新提交")
    data = parse_remedy_input(
        {
            "type": remedy.type,
            "amount": remedy.amount if amount is None else amount,
            "responsibility": remedy.responsibility,
            "justification": remedy.justification if justification is None else justification,
            "policy_exception": remedy.policy_exception,
        }
    )
    now = clock.now()
    updated = Remedy.objects.filter(pk=remedy.pk, state=RemedyState.RETURNED).update(
        state=RemedyState.PENDING, round=F("round") + 1
    )
    if updated != 1:
        raise Conflict("remedy_not_returned", "只有被退回的申请可以重新提交", {"state": remedy.state})
    remedy.refresh_from_db()
    remedy.amount, remedy.justification = data.amount, data.justification
    _route(remedy, staff=staff_of(actor), now=now)
    remedy.save()
    _event(remedy, actor=actor, now=now, action="resubmit", before=RemedyState.RETURNED, amount=str(remedy.amount))
    return remedy


@transaction.atomic
def remedy_cancel(*, remedy_id: int, actor, comment: str = "") -> Remedy:
    """The requester (or a manager) withdraws a pending or returned remedy."""
    remedy = remedy_for_actor(actor, remedy_id)
    if remedy.requested_by_id != actor.pk and staff_of(actor).role not in EXECUTORS:
        raise Forbidden("not_requester", "只有申请人或投诉管理员可以撤销")
    before = remedy.state
    updated = Remedy.objects.filter(pk=remedy.pk, state__in=[RemedyState.PENDING, RemedyState.RETURNED]).update(
        state=RemedyState.CANCELLED
    )
    if updated != 1:
        raise Conflict("remedy_not_cancellable", "只有审批中或已退回的申请可以撤销", {"state": remedy.state})
    ApprovalStep.objects.filter(remedy=remedy, state__in=[StepState.ACTIVE, StepState.WAITING]).update(
        state=StepState.CANCELLED, next_check_at=None
    )
    remedy.state = RemedyState.CANCELLED
    _event(remedy, actor=actor, now=clock.now(), action="cancel", before=before, comment=comment)
    return remedy


@transaction.atomic
def remedy_execute(*, remedy_id: int, actor, note: str = "") -> Remedy:
    """Record that an approved remedy was paid or carried out; exactly once."""
    remedy = remedy_for_actor(actor, remedy_id)
    if remedy.requested_by_id != actor.pk and staff_of(actor).role not in EXECUTORS:
        raise Forbidden("not_executor", "只有申请人或投诉管理员可以登记执行")
    if "\x00" in (note or ""):
        raise InvalidInput("nul_character", "内容不能包含空字符（\\u0000）")
    now = clock.now()
    updated = Remedy.objects.filter(pk=remedy.pk, state=RemedyState.APPROVED).update(
        state=RemedyState.EXECUTED, executed_at=now, executed_by=actor, execution_note=(note or "")[:300]
    )
    if updated != 1:
        code = "already_executed" if remedy.state == RemedyState.EXECUTED else "remedy_not_approved"
        message = "该申请已执行，不能重复支付" if code == "already_executed" else "只有已批准的申请可以执行"
        raise Conflict(code, message, {"state": remedy.state})
    before = remedy.state
    remedy.refresh_from_db()
    _event(remedy, actor=actor, now=now, action="execute", before=before, comment=note or "")
    return remedy


# ---------------------------------------------------------------- delegation


@transaction.atomic
def delegation_create(
    *, actor, delegate_id: int, starts_on: date, ends_on: date, note: str = "", principal_id: int | None = None
) -> Delegation:
    """Let ``delegate`` decide the actor's approval steps from ``starts_on`` to ``ends_on`` (inclusive).
    An admin may set one up for someone else (``principal_id``)."""
    principal = principal_id or actor.pk
    if principal != actor.pk and staff_of(actor).role != Role.ADMIN:
        raise Forbidden("not_principal", "只能为自己设置委托")
    if not valid_id(delegate_id):
        raise InvalidInput("unknown_delegate", "代理人不存在或已停用", {"field": "delegate_id"})
    if delegate_id == principal:
        raise InvalidInput("delegate_self", "不能委托给自己", {"field": "delegate_id"})
    if not Staff.objects.filter(user_id=delegate_id, user__is_active=True).exists():
        raise InvalidInput("unknown_delegate", "代理人不存在或已停用", {"field": "delegate_id"})
    if ends_on < starts_on:
        raise InvalidInput("dates_reversed", "结束日期不能早于开始日期", {"field": "ends_on"})
    if (ends_on - starts_on) > timedelta(days=366):
        raise InvalidInput("delegation_too_long", "委托期限最长一年", {"field": "ends_on"})
    if "\x00" in note:
        raise InvalidInput("nul_character", "内容不能包含空字符（\\u0000）")
    return Delegation.objects.create(
        principal_id=principal,
        delegate_id=delegate_id,
        starts_on=starts_on,
        ends_on=ends_on,
        note=note[:200],
        created_at=clock.now(),
    )


@transaction.atomic
def delegation_end(*, actor, delegation_id: int) -> None:
    row = Delegation.objects.filter(pk=delegation_id).first() if valid_id(delegation_id) else None
    if row is None or (row.principal_id != actor.pk and staff_of(actor).role != Role.ADMIN):
        raise NotFound("delegation_not_found", "委托不存在")
    row.delete()


# ---------------------------------------------------------------- escalation of late steps


def approval_steps_due(*, now: datetime, limit: int = 500) -> list[int]:
    return list(
        ApprovalStep.objects.filter(next_check_at__lte=now)
        .order_by("next_check_at")
        .values_list("pk", flat=True)[:limit]
    )


def approval_step_escalate(*, step_id: int, now: datetime) -> int | None:
    """Fire the next escalation level of a late step exactly once (compare-and-set on the level).

    Level 1 at the deadline tells the approvers, their delegates and the requester; level 2
    (``escalate_after`` working hours later) tells the unit's leaders. Return the level fired.
    """
    from kuaixiang.sla.calendars import DEFAULT_CALENDAR, calendar_get
    from kuaixiang.sla.worktime import CalendarYearUnknown, Unit

    step = ApprovalStep.objects.select_related("remedy__complaint", "remedy__requested_by", "remedy__unit").get(
        pk=step_id
    )
    if step.state != StepState.ACTIVE or step.next_check_at is None or step.next_check_at > now:
        return None
    level = step.escalation_level + 1
    next_check = None
    if level == 1:
        try:
            hours = float(settings_get().escalate_after)
            next_check = calendar_get(DEFAULT_CALENDAR).add(step.due_at or now, hours, Unit.WORKING_HOURS)
        except (NotFound, CalendarYearUnknown):
            next_check = now + timedelta(hours=4)
    with transaction.atomic():
        claimed = ApprovalStep.objects.filter(
            pk=step.pk, escalation_level=step.escalation_level, state=StepState.ACTIVE
        ).update(escalation_level=level, next_check_at=next_check)
        if claimed != 1:
            return None
        remedy = step.remedy
        approvers = list(step.approvers.all())
        if level == 1:
            users = approvers + _delegates_of([u.pk for u in approvers], local_today(now)) + [remedy.requested_by]
            subject = f"审批已超时：{remedy.get_type_display()} ¥{remedy.amount}"
        else:
            _, users = approvers_at(Role.LEADER, remedy.unit, exclude_user_id=None)
            subject = f"审批超时督办：{remedy.get_type_display()} ¥{remedy.amount}"
        _notify(
            users, remedy, subject, _describe(remedy) + f"\n第 {step.order} 步（{step.get_role_display()}）未按时审批"
        )
        _event(remedy, actor=None, now=now, action="escalate", before=remedy.state, level=level, step=step.order)
    return level


def approval_steps_sweep(*, now: datetime, limit: int = 500) -> list[tuple[int, int]]:
    """Escalate every late approval step (cost grows with what is due); a failing row is pushed on."""
    fired = []
    for step_id in approval_steps_due(now=now, limit=limit):
        try:
            level = approval_step_escalate(step_id=step_id, now=now)
        except Exception:  # noqa: BLE001 — one bad row must not stop the sweep
            log.exception("remedy approval step %s escalation failed", step_id)
            ApprovalStep.objects.filter(pk=step_id, next_check_at__lte=now).update(
                next_check_at=now + timedelta(minutes=15)
            )
            continue
        if level:
            fired.append((step_id, level))
    return fired
