"""Reads of remedies, approval inboxes, the matrix and the remedies report, within the caller's scope."""

from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth

from kuaixiang import clock
from kuaixiang.org.scope import scope_for
from kuaixiang.remedies.models import (
    ApprovalStep,
    AuthorityChange,
    AuthorityRule,
    ChainTemplate,
    Delegation,
    Remedy,
    RemedyEvent,
    RemedyState,
    StepState,
)
from kuaixiang.remedies.services import local_today, remedy_for_actor


def remedies_visible(user) -> QuerySet[Remedy]:
    """Remedies whose complaint is in the user's data scope."""
    return Remedy.objects.filter(scope_for(user).complaint_filter("complaint__"))


def remedy_detail(user, remedy_id: int) -> Remedy:
    """The remedy with its steps (approvers loaded) and timeline; NotFound outside scope."""
    remedy = remedy_for_actor(user, remedy_id)
    remedy.step_list = list(
        ApprovalStep.objects.filter(remedy=remedy)
        .select_related("place", "decided_by", "on_behalf_of")
        .prefetch_related("approvers")
        .order_by("round", "order")
    )
    remedy.event_list = list(RemedyEvent.objects.filter(remedy=remedy).select_related("actor").order_by("at", "id"))
    return remedy


def remedies_with_chains(remedy_ids: list[int]) -> list[Remedy]:
    """Remedies (in the given order) with ``step_list`` and ``event_list`` in a fixed number of queries.
    The caller has checked that the user may see each of them."""
    remedies = {
        r.pk: r
        for r in Remedy.objects.filter(pk__in=remedy_ids).select_related("complaint", "requested_by", "department")
    }
    for remedy in remedies.values():
        remedy.step_list, remedy.event_list = [], []
    steps = (
        ApprovalStep.objects.filter(remedy_id__in=remedies)
        .select_related("place", "decided_by", "on_behalf_of")
        .prefetch_related("approvers")
        .order_by("remedy_id", "round", "order")
    )
    for step in steps:
        remedies[step.remedy_id].step_list.append(step)
    for event in RemedyEvent.objects.filter(remedy_id__in=remedies).select_related("actor").order_by("at", "id"):
        remedies[event.remedy_id].event_list.append(event)
    return [remedies[pk] for pk in remedy_ids if pk in remedies]


def current_step(remedy: Remedy) -> ApprovalStep | None:
    for step in getattr(remedy, "step_list", []):
        if step.round == remedy.round and step.state == StepState.ACTIVE:
            return step
    return None


def remedies_for_complaint(complaint_id: int) -> list[Remedy]:
    """Every remedy of one complaint (the caller has checked the complaint is visible)."""
    return list(
        Remedy.objects.filter(complaint_id=complaint_id).select_related("requested_by").order_by("-created_at", "-id")
    )


def approvals_waiting(user, *, limit: int = 200) -> list[ApprovalStep]:
    """Active steps the user may decide now: as an approver, or as today's delegate of one (待我审批)."""
    today = local_today()
    principals = list(
        Delegation.objects.filter(delegate=user, starts_on__lte=today, ends_on__gte=today).values_list(
            "principal_id", flat=True
        )
    )
    who = Q(approvers=user)
    if principals:
        who |= Q(approvers__in=principals)
    ids = (
        ApprovalStep.objects.filter(who, state=StepState.ACTIVE)
        .values_list("pk", flat=True)
        .distinct()
        .order_by("pk")[:limit]
    )
    return list(
        ApprovalStep.objects.filter(pk__in=list(ids))
        .select_related("remedy__complaint", "remedy__requested_by", "place")
        .prefetch_related("approvers")
        .order_by("due_at", "pk")
    )


def delegations_of(user) -> list[Delegation]:
    return list(
        Delegation.objects.filter(Q(principal=user) | Q(delegate=user))
        .select_related("principal", "delegate")
        .order_by("-starts_on", "-id")
    )


def matrix() -> dict:
    """The matrix for display: rules grouped by remedy type, chain templates with steps, recent changes."""
    rules = (
        AuthorityRule.objects.filter(active=True)
        .select_related("department")
        .order_by("remedy_type", "department__path", "per_complaint")
    )
    grouped: dict[str, list[AuthorityRule]] = defaultdict(list)
    for rule in rules:
        grouped[rule.get_remedy_type_display()].append(rule)
    for group in grouped.values():
        group.sort(key=lambda r: (r.department_id is not None, r.per_complaint is None, r.per_complaint or 0))
    return {
        "rules": dict(grouped),
        "chains": list(ChainTemplate.objects.filter(active=True).prefetch_related("steps")),
        "changes": list(AuthorityChange.objects.select_related("actor").order_by("-at", "-id")[:20]),
    }


def remedies_report(user, *, first: date | None = None, last: date | None = None) -> dict:
    """Executed remedies in scope: totals per type, responsibility, branch (unit) and month."""
    rows = remedies_visible(user).filter(state=RemedyState.EXECUTED)
    if first:
        rows = rows.filter(executed_at__date__gte=first)
    if last:
        rows = rows.filter(executed_at__date__lte=last)

    def totals(*fields) -> list[dict]:
        return list(rows.values(*fields).annotate(count=Count("id"), total=Sum("amount")).order_by(*fields))

    by_type = totals("type")
    by_responsibility = totals("responsibility")
    by_unit = totals("unit__name")
    by_month = list(
        rows.annotate(month=TruncMonth("executed_at", tzinfo=clock.SHANGHAI))
        .values("month")
        .annotate(count=Count("id"), total=Sum("amount"))
        .order_by("month")
    )
    overall = rows.aggregate(count=Count("id"), total=Sum("amount"))
    return {
        "by_type": by_type,
        "by_responsibility": by_responsibility,
        "by_unit": by_unit,
        "by_month": by_month,
        "count": overall["count"] or 0,
        "total": overall["total"] or Decimal(0),
        "pending": remedies_visible(user).filter(state=RemedyState.PENDING).count(),
        "items": list(rows.select_related("complaint", "unit", "requested_by").order_by("-executed_at", "-id")[:500]),
    }


def remedies_list(user, *, state: str | None = None, limit: int = 200) -> list[Remedy]:
    rows = remedies_visible(user)
    if state:
        rows = rows.filter(state=state)
    return list(
        rows.select_related("complaint", "requested_by", "unit")
        .prefetch_related(Prefetch("steps", queryset=ApprovalStep.objects.order_by("round", "order")))
        .order_by("-created_at", "-id")[:limit]
    )
