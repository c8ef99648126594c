"""Reads of crisis data, with the data scope enforced.

An incident is visible to everyone inside its unit (an HQ incident to the whole organisation,
so every agent can see its script) and to the staff of the units above it.
"""

from datetime import UTC, datetime

from django.db import connection
from django.db.models import CharField, Count, F, Func, Q, Value
from django.db.models.functions import TruncHour

from kuaixiang import clock
from kuaixiang.crisis.criteria import deadline_verdict
from kuaixiang.crisis.hourly import HOUR, HourFigure, hourly_series, series_window
from kuaixiang.crisis.models import (
    Incident,
    IncidentComplaint,
    IncidentEvent,
    IncidentTask,
    Playbook,
    PlaybookRole,
    ScriptVersion,
)
from kuaixiang.errors import NotFound
from kuaixiang.org.models import Department

OPEN_STATUSES = (Incident.Status.ACTIVE, Incident.Status.STABILISING)


def incidents_visible(user):
    """Incidents ``user`` may read (superusers and HQ staff: all)."""
    from kuaixiang.crisis.services import actor_staff

    staff = actor_staff(user)
    department = staff.department
    unit = department.unit()
    if unit.level == Department.Level.HQ:
        return Incident.objects.all()
    ancestors = [int(part) for part in department.path.strip("/").split("/") if part]
    return Incident.objects.filter(Q(unit_id__in=ancestors) | Q(unit__path__startswith=unit.path))


def incident_list(user, *, status: str | None = None, limit: int = 100, offset: int = 0) -> list[Incident]:
    rows = incidents_visible(user).select_related("playbook", "unit")
    if status == "open":
        rows = rows.filter(status__in=OPEN_STATUSES)
    elif status:
        rows = rows.filter(status=status)
    return list(rows.order_by("-activated_at", "-id")[offset : offset + limit])


def incident_get(user, incident_id: int) -> Incident:
    incident = (
        incidents_visible(user)
        .select_related("playbook", "unit", "parent", "match_category")
        .filter(pk=incident_id)
        .first()
    )
    if incident is None:
        raise NotFound("incident_not_found", "危机事件不存在或不在您的数据范围内", {"id": incident_id})
    return incident


def playbooks_current() -> list[Playbook]:
    """The newest active version of every playbook code, with roles and steps."""
    newest: dict[str, Playbook] = {}
    for playbook in (
        Playbook.objects.filter(active=True).prefetch_related("roles", "steps").order_by("code", "-version")
    ):
        newest.setdefault(playbook.code, playbook)
    return list(newest.values())


def tasks_of(incident: Incident, now: datetime | None = None) -> list[dict]:
    """Tasks with their countdown (seconds left, negative when late) and deadline verdict."""
    now = now or clock.now()
    labels = dict(PlaybookRole.objects.filter(playbook_id=incident.playbook_id).values_list("key", "label"))
    out = []
    for task in IncidentTask.objects.filter(incident=incident).select_related("done_by").order_by("order", "id"):
        out.append(
            {
                "id": task.pk,
                "key": task.key,
                "title": task.title,
                "kind": task.kind,
                "owner_role": task.owner_role,
                "owner_label": labels.get(task.owner_role, task.owner_role),
                "anchor": task.anchor,
                "amount": float(task.amount),
                "unit": task.unit,
                "state": task.state,
                "due_at": task.due_at,
                "done_at": task.done_at,
                "done_by": (task.done_by.get_full_name() or task.done_by.username) if task.done_by else None,
                "seconds_left": int((task.due_at - now).total_seconds())
                if task.due_at and task.state != "done"
                else None,
                "verdict": deadline_verdict(task.due_at, task.done_at, now),
                "escalation_level": task.escalation_level,
                "checklist": task.checklist,
                "note": task.note,
            }
        )
    return out


def hourly_figures(
    incident: Incident, *, now: datetime | None = None, first: datetime | None = None, last: datetime | None = None
) -> list[HourFigure]:
    """New linked complaints per hour from activation to close (or now), with the change against the
    previous hour. One grouped range scan on the (incident, received_at) index."""
    now = now or clock.now()
    window_first, window_last = series_window(incident.activated_at, incident.closed_at, now)
    first, last = first or window_first, last or window_last
    rows = IncidentComplaint.objects.filter(
        incident_id=incident.pk, received_at__gte=first - HOUR, received_at__lt=last + HOUR
    )
    return hourly_series(_hour_counts(rows), first, last)


def _hour_counts(rows) -> dict[datetime, int]:
    """Count ``rows`` per UTC hour of ``received_at`` in the database. SQLite stores UTC text, so
    ``strftime`` groups it in C (Django's ``TruncHour`` there calls back into Python per row)."""
    if connection.vendor == "sqlite":
        hour = Func(Value("%Y-%m-%d %H"), F("received_at"), function="strftime", output_field=CharField())
        grouped = rows.annotate(hour=hour).values("hour").annotate(n=Count("id")).order_by()
        return {datetime.strptime(r["hour"], "%Y-%m-%d %H").replace(tzinfo=UTC): r["n"] for r in grouped}
    grouped = rows.annotate(hour=TruncHour("received_at", tzinfo=UTC)).values("hour").annotate(n=Count("id"))
    return {r["hour"].astimezone(UTC): r["n"] for r in grouped.order_by()}


def series_json(figures: list[HourFigure]) -> list[dict]:
    return [{"hour": f.start.isoformat(), "count": f.count, "change": f.change, "percent": f.percent} for f in figures]


def timeline(incident: Incident, limit: int = 500) -> list[IncidentEvent]:
    return list(IncidentEvent.objects.filter(incident=incident).select_related("actor").order_by("-at", "-id")[:limit])


def scripts(incident: Incident) -> list[ScriptVersion]:
    owner = incident.parent_id or incident.pk
    return list(
        ScriptVersion.objects.filter(incident_id=owner)
        .select_related("drafted_by", "approved_by", "published_by")
        .annotate(reply_count=Count("replies"))
        .order_by("-number")
    )


def linked_complaints(incident: Incident, limit: int = 200) -> list[IncidentComplaint]:
    return list(
        IncidentComplaint.objects.filter(incident=incident)
        .select_related("complaint", "replied_with")
        .order_by("-received_at", "-id")[:limit]
    )


def branch_rollup(incident: Incident, now: datetime | None = None) -> list[dict]:
    """Each branch incident's status, tasks done / total, overdue tasks and linked count."""
    now = now or clock.now()
    rows = (
        incident.branches.select_related("unit")
        .annotate(
            tasks_total=Count("tasks", distinct=True),
            tasks_done=Count("tasks", filter=Q(tasks__state=IncidentTask.State.DONE), distinct=True),
            tasks_late=Count(
                "tasks",
                filter=Q(tasks__due_at__lt=now) & ~Q(tasks__state=IncidentTask.State.DONE),
                distinct=True,
            ),
        )
        .order_by("unit__path")
    )
    return [
        {
            "id": b.pk,
            "branch": b.unit.name,
            "branch_id": b.unit_id,
            "status": b.status,
            "status_label": b.get_status_display(),
            "tasks_total": b.tasks_total,
            "tasks_done": b.tasks_done,
            "tasks_late": b.tasks_late,
            "linked": b.linked_count,
        }
        for b in rows
    ]


def scripts_for_complaint(complaint_id: int) -> list[tuple[Incident, ScriptVersion | None]]:
    """The open incidents a complaint is linked to, each with its current published script."""
    incidents = list(
        Incident.objects.filter(
            pk__in=IncidentComplaint.objects.filter(complaint_id=complaint_id).values("incident_id"),
            status__in=OPEN_STATUSES,
        ).order_by("-activated_at")
    )
    return _with_scripts(incidents)


def scripts_open(user) -> list[tuple[Incident, ScriptVersion | None]]:
    """Open HQ-level incidents visible to ``user`` that have a published script (for registration)."""
    incidents = list(
        incidents_visible(user).filter(status__in=OPEN_STATUSES, parent__isnull=True).order_by("-activated_at")[:5]
    )
    return [(i, s) for i, s in _with_scripts(incidents) if s is not None]


def _with_scripts(incidents: list[Incident]) -> list[tuple[Incident, ScriptVersion | None]]:
    owners = {i.pk: i.parent_id or i.pk for i in incidents}
    published = {
        s.incident_id: s
        for s in ScriptVersion.objects.filter(
            incident_id__in=set(owners.values()), status=ScriptVersion.Status.PUBLISHED
        )
    }
    return [(i, published.get(owners[i.pk])) for i in incidents]
