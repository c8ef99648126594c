"""Writers of the explanation script (统一解释口径) and the bulk reply that uses it.

PR (or a complaint manager) drafts a version, a leader approves it, and PR or a leader
publishes it; a leader may publish new content in one step (draft, approval and publication
are all recorded). Publishing supersedes the previous published version. The bulk reply
answers every linked complaint that is waiting for its reply with the current version through
``complaints.services.complaint_transition(action="reply")`` and records the version used.
"""

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Max, Q

from kuaixiang import clock
from kuaixiang.complaints.lifecycle import State
from kuaixiang.crisis.models import Incident, IncidentComplaint, ScriptVersion, StepKind
from kuaixiang.crisis.services import (
    MAX_TEXT,
    _require_open,
    _require_role,
    _require_unit,
    actor_role,
    event_add,
    incident_for_update,
    notify_roles,
    tasks_finish_kind,
)
from kuaixiang.errors import Conflict, DomainError, InvalidInput, NotFound
from kuaixiang.org.roles import Role

DRAFT_ROLES = frozenset({Role.PR, Role.MANAGER, Role.LEADER, Role.ADMIN})
APPROVE_ROLES = frozenset({Role.LEADER, Role.ADMIN})
PUBLISH_ROLES = frozenset({Role.PR, Role.LEADER, Role.ADMIN})
REPLY_ROLES = frozenset({Role.AGENT, Role.LEAD, Role.MANAGER, Role.ADMIN})


def _content(content: str) -> str:
    content = (content or "").strip()
    if not content or len(content) > MAX_TEXT or "\x00" in content:
        raise InvalidInput("invalid_script", f"口径内容不能为空，且不超过 {MAX_TEXT} 字", {"field": "content"})
    return content


def _version(incident: Incident, number: int | None, status: str | None = None) -> ScriptVersion:
    versions = ScriptVersion.objects.filter(incident=incident)
    version = versions.filter(number=number).first() if number else versions.order_by("-number").first()
    if version is None:
        raise NotFound("script_not_found", "口径版本不存在", {"version": number})
    if status and version.status != status:
        raise Conflict("script_wrong_status", "该口径版本当前状态不允许此操作", {"status": version.status})
    return version


def _new_version(incident: Incident, content: str, actor, now) -> ScriptVersion:
    number = (ScriptVersion.objects.filter(incident=incident).aggregate(n=Max("number"))["n"] or 0) + 1
    return ScriptVersion.objects.create(
        incident=incident, number=number, content=content, drafted_by=actor, drafted_at=now
    )


@transaction.atomic
def script_draft(*, incident_id: int, actor, content: str) -> ScriptVersion:
    incident = incident_for_update(incident_id, actor)
    _require_role(actor, DRAFT_ROLES, "只有公关、投诉管理员或领导可以起草口径")
    _require_unit(actor, incident)
    _require_open(incident)
    now = clock.now()
    version = _new_version(incident, _content(content), actor, now)
    event_add(incident, kind="script_draft", message=f"起草口径第 {version.number} 版", actor=actor, at=now)
    notify_roles(
        incident,
        ["commander", "leaders"],
        subject=f"【口径待审批】{incident.title}",
        body=f"第 {version.number} 版统一解释口径待审批：\n{version.content[:500]}",
        email=False,
    )
    return version


@transaction.atomic
def script_approve(*, incident_id: int, actor, number: int | None = None) -> ScriptVersion:
    incident = incident_for_update(incident_id, actor)
    _require_role(actor, APPROVE_ROLES, "只有领导可以审批口径")
    _require_unit(actor, incident)
    _require_open(incident)
    version = _version(incident, number, ScriptVersion.Status.DRAFT)
    now = clock.now()
    version.status, version.approved_by, version.approved_at = ScriptVersion.Status.APPROVED, actor, now
    version.save(update_fields=["status", "approved_by", "approved_at"])
    event_add(incident, kind="script_approve", message=f"审批通过口径第 {version.number} 版", actor=actor, at=now)
    return version


def _publish(incident: Incident, version: ScriptVersion, actor, now) -> ScriptVersion:
    ScriptVersion.objects.filter(incident=incident, status=ScriptVersion.Status.PUBLISHED).update(
        status=ScriptVersion.Status.SUPERSEDED
    )
    version.status, version.published_by, version.published_at = ScriptVersion.Status.PUBLISHED, actor, now
    version.save(update_fields=["status", "published_by", "published_at"])
    event_add(incident, kind="script_publish", message=f"发布统一解释口径第 {version.number} 版", actor=actor, at=now)
    tasks_finish_kind(incident, StepKind.SCRIPT, actor=actor, now=now, note=f"口径第 {version.number} 版")
    for branch in incident.branches.all():
        tasks_finish_kind(branch, StepKind.SCRIPT, actor=actor, now=now, note=f"总部口径第 {version.number} 版")
    notify_roles(
        incident,
        [r.key for r in incident.playbook.roles.all()],
        subject=f"【统一解释口径 第{version.number}版】{incident.title}",
        body=version.content[:2000],
        email=False,
    )
    return version


@transaction.atomic
def script_publish(*, incident_id: int, actor, number: int | None = None, content: str | None = None) -> ScriptVersion:
    """Publish approved version ``number`` (the newest approved one when omitted); or, given
    ``content``, let a leader draft, approve and publish a new version at once."""
    incident = incident_for_update(incident_id, actor)
    _require_unit(actor, incident)
    _require_open(incident)
    now = clock.now()
    if content is not None:
        _require_role(actor, APPROVE_ROLES, "直接发布新口径须领导审批；请先起草，由领导审批后发布")
        version = _new_version(incident, _content(content), actor, now)
        version.approved_by, version.approved_at = actor, now
        event_add(incident, kind="script_draft", message=f"起草并审批口径第 {version.number} 版", actor=actor, at=now)
        return _publish(incident, version, actor, now)
    _require_role(actor, PUBLISH_ROLES, "只有公关或领导可以发布口径")
    if number is None:
        version = (
            ScriptVersion.objects.filter(incident=incident, status=ScriptVersion.Status.APPROVED)
            .order_by("-number")
            .first()
        )
        if version is None:
            raise Conflict("no_approved_script", "没有已审批待发布的口径")
    else:
        version = _version(incident, number, ScriptVersion.Status.APPROVED)
    return _publish(incident, version, actor, now)


def script_current(incident: Incident) -> ScriptVersion | None:
    """The published version in force for ``incident``; a branch incident uses its HQ's."""
    owner = incident.parent_id or incident.pk
    return ScriptVersion.objects.filter(incident_id=owner, status=ScriptVersion.Status.PUBLISHED).first()


@dataclass
class BulkReply:
    version: int
    replied: list[dict] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)


def incident_bulk_reply(*, incident_id: int, actor) -> BulkReply:
    """Reply to every linked complaint that is waiting for its reply (状态「审核通过」) with the current
    script, one complaint transaction each; skip the others and say why. Drills reply to nobody."""
    from kuaixiang.complaints.services import complaint_transition

    with transaction.atomic():
        incident = incident_for_update(incident_id, actor)
        _require_unit(actor, incident)
        if actor_role(actor) not in REPLY_ROLES:
            raise DomainError("role_forbidden", "只有坐席、班长、投诉管理员可以答复工单", status=403)
        if incident.sandbox:
            raise Conflict("sandbox_no_reply", "演练事件不向真实客户答复")
        version = script_current(incident)
        if version is None:
            raise Conflict("no_published_script", "尚未发布统一解释口径")
        links = list(
            IncidentComplaint.objects.filter(incident=incident, replied_with__isnull=True)
            .select_related("complaint")
            .only("pk", "complaint__id", "complaint__number", "complaint__status")
            .order_by("pk")
        )
    result = BulkReply(version=version.number)
    for link in links:
        complaint = link.complaint
        if complaint.status != State.REVIEWED:
            result.skipped.append(
                {
                    "complaint_id": complaint.pk,
                    "number": complaint.number,
                    "status": complaint.status,
                    "reason": "not_replyable",
                }
            )
            continue
        try:
            with transaction.atomic():
                complaint_transition(
                    complaint_id=complaint.pk, action="reply", actor=actor, data={"content": version.content}
                )
                now = clock.now()
                root = incident.parent_id or incident.pk
                IncidentComplaint.objects.filter(
                    Q(incident_id=root) | Q(incident__parent_id=root), complaint_id=complaint.pk
                ).update(replied_with=version, replied_at=now)
        except DomainError as exc:
            result.skipped.append(
                {
                    "complaint_id": complaint.pk,
                    "number": complaint.number,
                    "status": complaint.status,
                    "reason": exc.code,
                }
            )
            continue
        result.replied.append({"complaint_id": complaint.pk, "number": complaint.number})
    with transaction.atomic():
        event_add(
            incident,
            kind="bulk_reply",
            message=f"按口径第 {version.number} 版批量答复 {len(result.replied)} 件，跳过 {len(result.skipped)} 件",
            actor=actor,
            payload={"version": version.number, "replied": len(result.replied), "skipped": len(result.skipped)},
        )
    return result


def reply_recorded(*, complaint_id: int, content: str, now) -> int:
    """A reply given one by one (not in bulk) whose text is the current script of an incident the
    complaint is linked to: record that version on the link. Return how many links were marked."""
    marked = 0
    links = IncidentComplaint.objects.filter(complaint_id=complaint_id, replied_with__isnull=True).select_related(
        "incident"
    )
    for link in links:
        version = script_current(link.incident)
        if version is not None and version.content.strip() == (content or "").strip():
            marked += IncidentComplaint.objects.filter(pk=link.pk).update(replied_with=version, replied_at=now)
    return marked
