"""Pushing an HQ incident to its branches (服务协同): one branch incident each, with its own tasks."""

from django.db import transaction

from kuaixiang import clock
from kuaixiang.crisis.links import _unit_paths
from kuaixiang.crisis.models import Incident, IncidentComplaint, StepKind
from kuaixiang.crisis.services import (
    PUSH_ROLES,
    _participants_create,
    _require_open,
    _require_role,
    _require_unit,
    _steps_for,
    _tasks_create,
    event_add,
    incident_for_update,
    notify_roles,
    tasks_finish_kind,
)
from kuaixiang.errors import Conflict, InvalidInput
from kuaixiang.org.models import Department


@transaction.atomic
def incident_push_branches(*, incident_id: int, actor, branch_ids: list[int] | None = None) -> list[Incident]:
    """Push an HQ incident to branches (all active ones when ``branch_ids`` is None): each gets its own
    incident with the playbook's branch steps, its people, and the already linked complaints it holds."""
    incident = incident_for_update(incident_id, actor)
    _require_role(actor, PUSH_ROLES, "只有投诉管理员、领导可以下发分公司")
    _require_unit(actor, incident)
    _require_open(incident)
    if incident.parent_id or incident.unit.level != Department.Level.HQ:
        raise Conflict("not_hq_incident", "只有总部事件可以下发分公司")
    branches = Department.objects.filter(
        level=Department.Level.BRANCH, active=True, path__startswith=incident.unit.path
    )
    if branch_ids is not None:
        wanted = set(branch_ids)
        branches = branches.filter(pk__in=wanted)
        missing = wanted - set(branches.values_list("pk", flat=True))
        if missing or not wanted:
            raise InvalidInput("unknown_branch", "分公司不存在", {"branch_ids": sorted(missing)})
    done = set(incident.branches.values_list("unit_id", flat=True))
    now = clock.now()
    created = []
    steps = _steps_for(incident.playbook, branch=True)
    for branch in branches.exclude(pk__in=done).order_by("path"):
        child = Incident.objects.create(
            title=f"{incident.title}（{branch.name}）",
            description=incident.description,
            playbook=incident.playbook,
            severity=incident.severity,
            source=Incident.Source.BRANCH,
            unit=branch,
            parent=incident,
            sandbox=incident.sandbox,
            flags=incident.flags,
            match_category=incident.match_category,
            scope_label=incident.scope_label,
            declared_by=actor,
            activated_at=now,
        )
        _participants_create(child, now)
        _tasks_create(child, steps, now)
        event_add(child, kind="open", message=f"总部下发：{incident.title}", actor=actor, at=now)
        held = [
            link.complaint
            for link in incident.links.select_related("complaint").only(
                "complaint__id", "complaint__received_at", "complaint__intake_department_id", "complaint_id"
            )
        ]
        paths = _unit_paths(c.intake_department_id for c in held)
        mine = [c for c in held if paths.get(c.intake_department_id, "").startswith(branch.path)]
        rows = [
            IncidentComplaint(
                incident=child,
                complaint=c,
                received_at=c.received_at,
                linked_at=now,
                source=IncidentComplaint.Source.MATCH,
            )
            for c in mine
        ]
        IncidentComplaint.objects.bulk_create(rows, ignore_conflicts=True)
        child.linked_count = len(rows)
        Incident.objects.filter(pk=child.pk).update(linked_count=child.linked_count)
        notify_roles(
            child,
            [r.key for r in incident.playbook.roles.all()],
            subject=f"【危机事件下发】{incident.title}",
            body=f"总部已启动「{incident.playbook.name}」，请按预案处置并使用统一解释口径。\n{incident.description[:500]}",
        )
        created.append(child)
    if not created:
        raise Conflict("already_pushed", "所选分公司均已下发")
    names = "、".join(c.unit.name for c in created)
    event_add(
        incident,
        kind="push",
        message=f"下发分公司：{names}",
        actor=actor,
        payload={"branches": [c.unit_id for c in created]},
        at=now,
    )
    tasks_finish_kind(incident, StepKind.BRANCHES, actor=actor, now=now, note=f"已下发：{names}")
    return created
