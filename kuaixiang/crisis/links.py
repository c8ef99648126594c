"""Writers of an incident's linked complaints: the warning's, new matching ones on registration, and
manual link / unlink. A complaint linked to an HQ incident is linked to the branch incident that
holds it too (its intake department is inside that branch)."""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q

from kuaixiang import clock
from kuaixiang.crisis.models import Incident, IncidentComplaint
from kuaixiang.crisis.services import (
    LINK_ROLES,
    OPEN_STATUSES,
    _require_open,
    _require_role,
    _require_unit,
    event_add,
    incident_for_update,
)
from kuaixiang.errors import Conflict, NotFound
from kuaixiang.org.models import Department


def _unit_paths(department_ids) -> dict[int, str]:
    return dict(Department.objects.filter(pk__in=set(department_ids)).values_list("pk", "path"))


def links_add(incident: Incident, complaints, *, source: str, now: datetime) -> int:
    """Link complaints (already loaded, with ``received_at`` and ``intake_department_id``) to the
    incident and to its branch incidents that contain them; return how many were new here."""
    complaints = list(complaints)
    if not complaints:
        return 0
    targets = [incident] + list(incident.branches.select_related("unit"))
    paths = _unit_paths(c.intake_department_id for c in complaints)
    added_here = 0
    for target in targets:
        mine = [c for c in complaints if paths.get(c.intake_department_id, "").startswith(target.unit.path)]
        if not mine:
            continue
        have = set(
            IncidentComplaint.objects.filter(incident=target, complaint_id__in=[c.pk for c in mine]).values_list(
                "complaint_id", flat=True
            )
        )
        rows = [
            IncidentComplaint(incident=target, complaint=c, received_at=c.received_at, linked_at=now, source=source)
            for c in mine
            if c.pk not in have
        ]
        IncidentComplaint.objects.bulk_create(rows, ignore_conflicts=True)
        Incident.objects.filter(pk=target.pk).update(linked_count=F("linked_count") + len(rows))
        if target.pk == incident.pk:
            added_here = len(rows)
    return added_here


def _complaint_visible(actor, complaint_id: int):
    from kuaixiang.complaints.models import Complaint
    from kuaixiang.org.scope import scope_for

    base = Complaint.objects.all() if actor is None else Complaint.objects.filter(scope_for(actor).complaint_filter())
    complaint = base.filter(pk=complaint_id).only("pk", "received_at", "intake_department_id", "number").first()
    if complaint is None:
        raise NotFound("complaint_not_found", "工单不存在或不在您的数据范围内", {"complaint_id": complaint_id})
    return complaint


@transaction.atomic
def incident_link(*, incident_id: int, complaint_id: int, actor) -> Incident:
    incident = incident_for_update(incident_id, actor)
    _require_role(actor, LINK_ROLES, "只有班长、投诉管理员、领导可以关联工单")
    _require_unit(actor, incident)
    _require_open(incident)
    complaint = _complaint_visible(actor, complaint_id)
    now = clock.now()
    if not links_add(incident, [complaint], source=IncidentComplaint.Source.MANUAL, now=now):
        raise Conflict("already_linked", "该工单已关联本事件", {"complaint_id": complaint_id})
    event_add(
        incident,
        kind="link",
        message=f"关联工单 {complaint.number}",
        actor=actor,
        payload={"complaint_id": complaint.pk},
        at=now,
    )
    incident.refresh_from_db()
    return incident


@transaction.atomic
def incident_unlink(*, incident_id: int, complaint_id: int, actor) -> Incident:
    incident = incident_for_update(incident_id, actor)
    _require_role(actor, LINK_ROLES, "只有班长、投诉管理员、领导可以取消关联")
    _require_unit(actor, incident)
    _require_open(incident)
    link = (
        IncidentComplaint.objects.filter(incident=incident, complaint_id=complaint_id)
        .select_related("complaint")
        .first()
    )
    if link is None:
        raise NotFound("not_linked", "该工单未关联本事件", {"complaint_id": complaint_id})
    if link.replied_with_id:
        raise Conflict("already_replied", "该工单已按口径答复，不能取消关联", {"complaint_id": complaint_id})
    number = link.complaint.number
    family = Q(incident=incident) | Q(incident__parent=incident)
    removed = IncidentComplaint.objects.filter(family, complaint_id=complaint_id, replied_with__isnull=True)
    for incident_pk in list(removed.values_list("incident_id", flat=True)):
        Incident.objects.filter(pk=incident_pk).update(linked_count=F("linked_count") - 1)
    removed.delete()
    event_add(
        incident, kind="unlink", message=f"取消关联工单 {number}", actor=actor, payload={"complaint_id": complaint_id}
    )
    incident.refresh_from_db()
    return incident


def complaints_match(complaints, *, now: datetime) -> int:
    """Link newly registered complaints to the open incidents they match (category subtree inside the
    incident's unit). One query when no incident is open; three more otherwise."""
    incidents = list(
        Incident.objects.filter(status__in=OPEN_STATUSES, match_category__isnull=False, parent__isnull=True)
        .select_related("match_category", "unit")
        .order_by("pk")
    )
    if not incidents:
        return 0
    from kuaixiang.triage.models import Category

    complaints = [c for c in complaints if c.category_id]
    if not complaints:
        return 0
    categories = dict(Category.objects.filter(pk__in={c.category_id for c in complaints}).values_list("pk", "path"))
    places = _unit_paths(c.intake_department_id for c in complaints)
    linked = 0
    for incident in incidents:
        mine = [
            c
            for c in complaints
            if categories.get(c.category_id, "").startswith(incident.match_category.path)
            and places.get(c.intake_department_id, "").startswith(incident.unit.path)
            and c.received_at >= incident.activated_at - timedelta(days=1)
        ]
        if mine:
            linked += links_add(incident, mine, source=IncidentComplaint.Source.MATCH, now=now)
    return linked
