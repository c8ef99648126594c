"""Periodic work on incidents: escalating late tasks and writing each finished hour to the timeline.
Both claim their work with a compare-and-set, so several workers may run them at once."""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q

from kuaixiang import clock
from kuaixiang.crisis.models import Incident, IncidentTask
from kuaixiang.crisis.services import ESCALATE_AFTER, OPEN_STATUSES, event_add, notify_roles

log = logging.getLogger(__name__)


def tasks_due(*, now: datetime, limit: int = 500) -> list[int]:
    return list(
        IncidentTask.objects.filter(next_check_at__lte=now)
        .order_by("next_check_at")
        .values_list("pk", flat=True)[:limit]
    )


def task_escalate(*, task_id: int, now: datetime) -> int | None:
    """Fire the next escalation level of an overdue task once (compare-and-set on its level): level 1
    tells the owners and the commander, level 2 (one hour later) the leaders. Return the level fired."""
    task = IncidentTask.objects.select_related("incident", "incident__playbook").filter(pk=task_id).first()
    if task is None or task.state != IncidentTask.State.OPEN or task.next_check_at is None or task.next_check_at > now:
        return None
    level = task.escalation_level + 1
    next_check = task.due_at + ESCALATE_AFTER if level == 1 and task.due_at else None
    with transaction.atomic():
        claimed = IncidentTask.objects.filter(
            pk=task.pk, escalation_level=task.escalation_level, state=IncidentTask.State.OPEN
        ).update(escalation_level=level, next_check_at=next_check)
        if claimed != 1:
            return None
        incident = task.incident
        due = task.due_at.astimezone(clock.SHANGHAI).strftime("%Y-%m-%d %H:%M") if task.due_at else "—"
        roles = [task.owner_role, "commander"] if level == 1 else ["leaders", "commander"]
        what = "已超时" if level == 1 else "超时 1 小时仍未完成，升级至领导"
        event_add(
            incident,
            kind="escalate",
            message=f"任务「{task.title}」{what}（时限 {due}）",
            payload={"task_id": task.pk, "level": level},
            at=now,
        )
        notify_roles(
            incident,
            roles,
            subject=f"【危机任务{what}】{task.title}"[:200],
            body=f"事件：{incident.title}\n任务：{task.title}\n时限：{due}",
        )
    return level


def tasks_sweep(*, now: datetime, limit: int = 500) -> int:
    """Escalate every due task; the cost grows with what is due. Return how many levels fired."""
    fired = 0
    for task_id in tasks_due(now=now, limit=limit):
        try:
            fired += 1 if task_escalate(task_id=task_id, now=now) else 0
        except Exception:  # one bad row must not stop the sweep; push it forward
            log.exception("crisis task escalation %s failed", task_id)
            IncidentTask.objects.filter(pk=task_id, next_check_at__lte=now).update(
                next_check_at=now + timedelta(minutes=15)
            )
    return fired


def hours_log(*, now: datetime) -> int:
    """Write each finished hour's figure (new linked complaints, change against the hour before) to the
    timeline of every incident being tracked; each hour once (compare-and-set on ``hour_logged``).
    The hour of closing is the last one written."""
    from kuaixiang.crisis.hourly import HOUR, hour_floor
    from kuaixiang.crisis.selectors import hourly_figures

    written = 0
    recent = Q(status__in=OPEN_STATUSES) | Q(closed_at__gte=now - timedelta(hours=3))
    for incident in Incident.objects.filter(recent).only("pk", "activated_at", "closed_at", "hour_logged", "status"):
        last = hour_floor(incident.closed_at) if incident.closed_at else hour_floor(now) - HOUR
        first = incident.hour_logged + HOUR if incident.hour_logged else hour_floor(incident.activated_at)
        if last < first:
            continue
        figures = {f.start: f for f in hourly_figures(incident, now=now, first=first, last=last)}
        for hour in sorted(figures)[-48:]:
            figure = figures[hour]
            with transaction.atomic():
                claimed = Incident.objects.filter(pk=incident.pk, hour_logged=incident.hour_logged).update(
                    hour_logged=hour
                )
                if claimed != 1:
                    break
                incident.hour_logged = hour
                local = hour.astimezone(clock.SHANGHAI)
                pct = f"{figure.percent:+.1f}%" if figure.percent is not None else "—"
                event_add(
                    incident,
                    kind="hourly",
                    message=f"{local:%m-%d %H:00}–{(local + HOUR):%H:00} 新增关联投诉 {figure.count} 件，"
                    f"较前一小时 {figure.change:+d}（{pct}）",
                    payload={
                        "hour": hour.isoformat(),
                        "count": figure.count,
                        "change": figure.change,
                        "percent": figure.percent,
                    },
                    at=now,
                )
                written += 1
    return written
