"""Reads of SLA policies and stages."""

import threading
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Prefetch

from kuaixiang.sla.calendars import DEFAULT_CALENDAR, calendar_get
from kuaixiang.sla.models import ComplaintStage, EscalationStep, SlaPolicy, SlaTarget
from kuaixiang.sla.worktime import CLOCK_UNITS, CalendarYearUnknown, Unit

_cache: tuple[tuple, dict[int, SlaPolicy]] | None = None
_lock = threading.Lock()


def policy_table() -> dict[int, SlaPolicy]:
    """Every policy with its targets and ladder, cached per process; one small query checks
    that the cache is current (count, newest id, newest ``updated_at``)."""
    global _cache
    # Raw SQL: this runs on every registration and timed transition, and the ORM's aggregate
    # costs ten times the query itself.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*), MAX(id), MAX(updated_at) FROM {SlaPolicy._meta.db_table}")  # noqa: S608
        key = tuple(cursor.fetchone())
    cached = _cache
    if cached is not None and cached[0] == key:
        return cached[1]
    table = {
        p.pk: p
        for p in SlaPolicy.objects.select_related("category").prefetch_related(
            Prefetch("targets", queryset=SlaTarget.objects.select_related("calendar")),
            Prefetch("ladder", queryset=EscalationStep.objects.order_by("level")),
        )
    }
    with _lock:
        _cache = (key, table)
    return table


def policies_forget() -> None:
    global _cache
    with _lock:
        _cache = None


def policies_in_force(at: datetime, *, table: dict[int, SlaPolicy] | None = None) -> list[SlaPolicy]:
    """Active policy versions in force at ``at``, with targets and ladder, best priority first."""
    found = [
        p
        for p in (policy_table() if table is None else table).values()
        if p.active and p.effective_from <= at and (p.effective_to is None or at < p.effective_to)
    ]
    return sorted(found, key=lambda p: (-p.priority, p.pk))


def policy_with_rules(policy_id: int) -> SlaPolicy:
    policy = policy_table().get(policy_id)
    if policy is None:
        raise SlaPolicy.DoesNotExist(policy_id)
    return policy


def _specificity(policy: SlaPolicy) -> tuple[int, int]:
    criteria = sum(bool(x) for x in (policy.channels, policy.severities, policy.category_id, policy.branch_id))
    depth = policy.category.level if policy.category_id else 0
    return criteria, depth


def policy_match(
    policies: list[SlaPolicy], *, channel: str, severity: str, category_path: str, department_path: str
) -> SlaPolicy | None:
    """The best policy among ``policies`` for a complaint's attributes, or None.

    Order: higher ``priority``, then more criteria set, then a deeper category, then the
    older row. ``category_path`` is the complaint category's materialised path ("" if none),
    ``department_path`` the intake department's ("/1/4/9/"): a branch matches its subtree.
    """
    best = None
    best_key = None
    for policy in policies:
        if policy.channels and channel not in policy.channels:
            continue
        if policy.severities and severity not in policy.severities:
            continue
        if policy.branch_id and f"/{policy.branch_id}/" not in department_path:
            continue
        if policy.category_id and not (category_path and category_path.startswith(policy.category.path)):
            continue
        key = (policy.priority, *_specificity(policy), -policy.pk)
        if best_key is None or key > best_key:
            best, best_key = policy, key
    return best


def stages_for_complaint(complaint_id: int) -> list[ComplaintStage]:
    return list(
        ComplaintStage.objects.filter(complaint_id=complaint_id)
        .select_related("target__calendar")
        .order_by("started_at", "id")
    )


def stage_clock(row: ComplaintStage, now: datetime) -> tuple[str, timedelta | None]:
    """(state, time left) of a stage for display: state is done, paused, unknown, overdue,
    warn or ok; time left is working time for working-time targets (negative once overdue)."""
    if row.completed_at:
        return ("overdue" if row.breached else "done"), None
    if row.paused_at:
        return "paused", None
    if row.due_at is None:
        return "unknown", None
    state = "overdue" if now > row.due_at else "warn" if row.warn_at and now >= row.warn_at else "ok"
    target = row.target
    if target is None or Unit(target.unit) in CLOCK_UNITS:
        return state, row.due_at - now
    try:
        kernel = calendar_get(target.calendar.code if target.calendar_id else DEFAULT_CALENDAR)
        return state, kernel.elapsed(now, row.due_at)
    except CalendarYearUnknown:
        return state, None
