"""Reads of warnings and of the monitoring board, with the reader's data scope enforced.

Who sees warnings: unit-scoped roles (manager, PR, legal, leader, admin) see every warning (they
are aggregates without personal data; a branch manager also sees company-wide ones); a head, lead
or handler sees the warnings assigned to a department in his scope; agents and users without a
staff record see none (superusers all)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, QuerySet

from kuaixiang import clock
from kuaixiang.alerts.models import HourlyCount, Warning
from kuaixiang.alerts.windows import hour_floor
from kuaixiang.org.roles import UNIT_SCOPED_ROLES, Role
from kuaixiang.org.scope import scope_for

DEPARTMENT_ROLES = frozenset({Role.HEAD, Role.LEAD, Role.HANDLER})


def warnings_visible(user) -> QuerySet[Warning]:
    scope = scope_for(user)
    qs = Warning.objects.all()
    if scope.everything or scope.role in UNIT_SCOPED_ROLES:
        return qs
    if scope.role in DEPARTMENT_ROLES:
        return qs.filter(department_id__in=scope.department_ids)
    return qs.none()


def warnings_list(
    *, user, status: str | None = None, level: int | None = None, sandbox: bool = False, open_only: bool = False
):
    qs = warnings_visible(user).filter(sandbox=sandbox).select_related("rule", "department", "cluster")
    if status:
        qs = qs.filter(status=status)
    if open_only:
        qs = qs.exclude(status=Warning.Status.RESOLVED)
    if level:
        qs = qs.filter(level=level)
    return qs.order_by("-raised_at", "-id")


def warning_get(*, user, warning_id: int) -> Warning | None:
    return (
        warnings_visible(user).select_related("rule", "department", "cluster", "category").filter(pk=warning_id).first()
    )


def warning_timeline(warning: Warning):
    # Insertion order: under concurrent intake a rise may carry an earlier "now" than the raise.
    return list(warning.events.select_related("actor").order_by("id"))


def warning_complaints(warning: Warning, *, user, limit: int = 20):
    """Example complaints behind the warning that the user may see, newest first."""
    from kuaixiang.complaints.models import Complaint

    ids = warning.links.values("complaint_id")
    return list(
        Complaint.objects.filter(scope_for(user).complaint_filter(), pk__in=ids)
        .select_related("category")
        .order_by("-received_at")[:limit]
    )


def board_data(*, user, now: datetime | None = None, sandbox: bool = False) -> dict:
    """Figures of the monitoring board (监控大屏): today's counts by category (level-2 nodes)
    and channel, the hourly series of today with the previous hour and the same hour last week,
    and the open warnings ``user`` may see, by level. A handful of aggregate queries whatever the
    volume (the counts are aggregates without personal data: every signed-in user sees them)."""
    from kuaixiang.complaints.models import Channel
    from kuaixiang.triage.models import Category

    now = now or clock.now()
    hour = hour_floor(now)
    local = now.astimezone(clock.SHANGHAI)
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    rows = HourlyCount.objects.filter(sandbox=sandbox, hour__gte=day_start - timedelta(days=7, hours=1), hour__lte=hour)
    today: dict[str, int] = {}
    series_all: dict[datetime, int] = {}
    for key, at, n in rows.values_list("scope_key", "hour", "count"):
        if at >= day_start:
            today[key] = today.get(key, 0) + n
        if key == "all":
            series_all[at] = n
    cat_ids = [int(k[4:]) for k in today if k.startswith("cat:")]
    cats = {
        pk: (name, level)
        for pk, name, level in Category.objects.filter(pk__in=cat_ids, level=2).values_list("pk", "full_name", "level")
    }
    by_category = sorted(
        ({"name": cats[i][0].replace(" / ", "/"), "level": cats[i][1], "count": today[f"cat:{i}"]} for i in cats),
        key=lambda x: -x["count"],
    )[:15]
    by_channel = sorted(
        (
            {"name": str(Channel(k[5:]).label), "count": n}
            for k, n in today.items()
            if k.startswith("chan:") and k[5:] in Channel.values
        ),
        key=lambda x: -x["count"],
    )
    hours = []
    at = day_start
    while at <= hour:
        hours.append(at)
        at += timedelta(hours=1)
    series = []
    for at in hours:
        n = series_all.get(at, 0)
        prev = series_all.get(at - timedelta(hours=1), 0)
        week = series_all.get(at - timedelta(days=7), 0)
        series.append(
            {"hour": at.astimezone(clock.SHANGHAI).strftime("%H:00"), "count": n, "previous": prev, "last_week": week}
        )
    visible = warnings_visible(user).filter(sandbox=sandbox).exclude(status=Warning.Status.RESOLVED)
    levels = {row["level"]: row["n"] for row in visible.order_by().values("level").annotate(n=Count("id"))}
    open_warnings = [
        {
            "id": w.pk,
            "level": w.level,
            "rule": w.rule.name,
            "scope": w.scope_label,
            "count": w.count,
            "status": w.get_status_display(),
            "raised_at": w.raised_at.astimezone(clock.SHANGHAI).strftime("%m-%d %H:%M"),
        }
        for w in visible.select_related("rule").order_by("-level", "-raised_at")[:12]
    ]
    current = series[-1] if series else {"count": 0, "previous": 0, "last_week": 0}
    return {
        "now": local.strftime("%Y-%m-%d %H:%M"),
        "total_today": today.get("all", 0),
        "current_hour": current,
        "by_category": by_category,
        "by_channel": by_channel,
        "series": series,
        "levels": {str(level): levels.get(level, 0) for level in (1, 2, 3)},
        "open_warnings": open_warnings,
    }
