"""The writers of crisis incidents: open, status changes, links, tasks, branches, sweeps.

Every public function is keyword-only, runs in one transaction, checks the actor's role and
unit, and writes an :class:`IncidentEvent` for each change. ``actor=None`` means the system
(a warning, a sweep, a drill) and skips the role checks. Sandbox (drill) incidents never send
e-mail or webhooks.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q

from kuaixiang import clock
from kuaixiang.crisis.criteria import SEVERITIES, Criteria, criteria_met, step_amount
from kuaixiang.crisis.models import (
    Anchor,
    Incident,
    IncidentComplaint,
    IncidentEvent,
    IncidentParticipant,
    IncidentTask,
    IncidentWarning,
    Playbook,
    PlaybookStep,
    StepKind,
    StepScope,
)
from kuaixiang.errors import Conflict, Forbidden, InvalidInput, NotFound
from kuaixiang.org.models import Department
from kuaixiang.org.roles import Role
from kuaixiang.sla.calendars import DEFAULT_CALENDAR, calendar_get
from kuaixiang.sla.worktime import BusinessCalendar, CalendarYearUnknown

log = logging.getLogger(__name__)

DECLARE_ROLES = frozenset({Role.MANAGER, Role.LEADER, Role.ADMIN})
CLOSE_ROLES = frozenset({Role.MANAGER, Role.LEADER, Role.ADMIN})
LINK_ROLES = frozenset({Role.LEAD, Role.MANAGER, Role.LEADER, Role.ADMIN})
PUSH_ROLES = frozenset({Role.MANAGER, Role.LEADER, Role.ADMIN})
REPORT_ROLES = frozenset({Role.MANAGER, Role.PR, Role.LEADER, Role.ADMIN})
OPEN_STATUSES = (Incident.Status.ACTIVE, Incident.Status.STABILISING)
ESCALATE_AFTER = timedelta(hours=1)  # an overdue task still open this long goes to the leaders
MAX_TITLE = 200
MAX_TEXT = 20000


# ---------------------------------------------------------------- who may do what


def actor_staff(actor):
    """The actor's staff record (superusers without one act as HQ admins)."""
    from kuaixiang.complaints.services import staff_of

    return staff_of(actor)


def actor_role(actor) -> str:
    return actor_staff(actor).role


def _require_role(actor, roles: frozenset, message: str) -> None:
    if actor is not None and actor_role(actor) not in roles:
        raise Forbidden("role_forbidden", message, {"role": actor_role(actor)})


def _require_unit(actor, incident: Incident) -> None:
    """Writers must belong to the incident's unit or one above it (HQ acts on branch incidents)."""
    if actor is None:
        return
    unit = actor_staff(actor).department.unit()
    if not incident.unit.path.startswith(unit.path):
        raise Forbidden("incident_other_unit", "该事件属于其他单位，您只能查看", {"unit": incident.unit.name})


def incident_for_update(incident_id: int, actor) -> Incident:
    """Lock and return the incident, or 404 when it does not exist or the actor may not see it."""
    from kuaixiang.crisis.selectors import incidents_visible

    base = incidents_visible(actor) if actor is not None else Incident.objects.all()
    incident = base.select_for_update(of=("self",)).select_related("playbook", "unit").filter(pk=incident_id).first()
    if incident is None:
        raise NotFound("incident_not_found", "危机事件不存在或不在您的数据范围内", {"id": incident_id})
    return incident


def _require_open(incident: Incident) -> None:
    if incident.status == Incident.Status.CLOSED:
        raise Conflict("incident_closed", "事件已结束，不能再修改", {"status": incident.status})


def event_add(incident: Incident, *, kind: str, message: str, actor=None, payload: dict | None = None, at=None):
    return IncidentEvent.objects.create(
        incident=incident, at=at or clock.now(), actor=actor, kind=kind, message=message[:500], payload=payload or {}
    )


# ---------------------------------------------------------------- playbooks and people


def playbook_current(code: str) -> Playbook:
    """The newest active version of playbook ``code``; 400 ``unknown_playbook`` when there is none."""
    playbook = Playbook.objects.filter(code=code, active=True).order_by("-version").first()
    if playbook is None:
        codes = sorted(set(Playbook.objects.filter(active=True).values_list("code", flat=True)))
        raise InvalidInput("unknown_playbook", f"预案不存在或未启用：{code}", {"field": "playbook", "available": codes})
    return playbook


def criteria_of(playbook: Playbook) -> Criteria:
    return Criteria(playbook.min_warning_level, frozenset(playbook.rule_codes or []), frozenset(playbook.flags or []))


def _own_departments(unit: Department) -> list[tuple[int, str]]:
    """(id, function) of the departments that belong to ``unit`` itself, not to a branch below it."""
    rows = list(
        Department.objects.filter(path__startswith=unit.path, active=True).values_list(
            "pk", "path", "level", "function"
        )
    )
    below = [path for pk, path, level, _ in rows if level == Department.Level.BRANCH and pk != unit.pk]
    return [(pk, function) for pk, path, _, function in rows if not any(path.startswith(b) for b in below)]


def people_for_role(role, unit: Department, at: datetime, *, sandbox: bool = False) -> list:
    """Resolve one playbook role to active users of ``unit`` (falling back to HQ when the unit has
    nobody): for each of the role's staff roles, in the unit's departments having one of its
    functions (any when none is given), whoever the duty roster has on shift at ``at``, else the
    staff holding that role there."""
    from kuaixiang.org.duty import duty_on_shift

    User = get_user_model()
    root_id = int(unit.path.strip("/").split("/")[0])
    places = [unit] if unit.pk == root_id or sandbox else [unit, Department.objects.get(pk=root_id)]
    for place in places:
        departments = [
            pk for pk, function in _own_departments(place) if not role.functions or function in role.functions
        ]
        found: dict[int, object] = {}
        for staff_role in role.staff_roles:
            people = duty_on_shift(role=staff_role, department_ids=departments, at=at) or list(
                User.objects.filter(
                    is_active=True, staff__role=staff_role, staff__department_id__in=departments
                ).order_by("username")
            )
            for user in people:
                found.setdefault(user.pk, user)
        if found:
            return list(found.values())
    return []


def _participants_create(incident: Incident, at: datetime) -> dict[str, list]:
    people: dict[str, list] = {}
    rows = []
    for role in incident.playbook.roles.all():
        users = people_for_role(role, incident.unit, at, sandbox=incident.sandbox)
        people[role.key] = users
        rows += [
            IncidentParticipant(incident=incident, user=u, role_key=role.key, role_label=role.label) for u in users
        ]
    IncidentParticipant.objects.bulk_create(rows, ignore_conflicts=True)
    return people


def role_people(incident: Incident, role_keys) -> list:
    """Active users holding any of ``role_keys`` in the incident (from its participants)."""
    User = get_user_model()
    ids = IncidentParticipant.objects.filter(incident=incident, role_key__in=list(role_keys)).values("user_id")
    return list(User.objects.filter(pk__in=ids, is_active=True).order_by("username"))


def notify_roles(incident: Incident, role_keys, *, subject: str, body: str, email: bool = True, webhooks=()) -> int:
    """Queue a message to the people behind ``role_keys``; sandbox incidents stay in the inbox."""
    from kuaixiang.notify.services import notifications_send

    users = role_people(incident, role_keys)
    if incident.sandbox:
        email, webhooks = False, ()
    rows = notifications_send(
        users=users,
        subject=subject,
        body=body,
        link=f"/crisis/{incident.pk}/",
        email=email,
        webhooks=webhooks,
    )
    return len(rows)


# ---------------------------------------------------------------- tasks and deadlines


def _kernel() -> BusinessCalendar:
    return calendar_get(DEFAULT_CALENDAR)


def task_due(kernel: BusinessCalendar, start: datetime, amount: Decimal, unit: str) -> datetime | None:
    """``amount`` ``unit`` after ``start`` on the official calendar; None when the calendar lacks the
    year (the task then shows no countdown and the timeline says why)."""
    try:
        return kernel.add(start, float(amount), unit)
    except CalendarYearUnknown:
        return None


def _tasks_create(incident: Incident, steps: list[PlaybookStep], at: datetime) -> list[IncidentTask]:
    kernel = _kernel()
    rows = []
    for step in steps:
        amount = step_amount(step.amount, step.amount_by_severity or {}, incident.severity)
        due = task_due(kernel, at, amount, step.unit) if step.anchor == Anchor.ACTIVATION else None
        rows.append(
            IncidentTask(
                incident=incident,
                step=step,
                order=step.order,
                key=step.key,
                title=step.title,
                kind=step.kind,
                anchor=step.anchor,
                amount=amount,
                unit=step.unit,
                owner_role=step.owner_role,
                checklist=[{"text": text, "done": False} for text in step.checklist or []],
                notify_roles=list(step.notify_roles or []),
                state=IncidentTask.State.OPEN if step.anchor == Anchor.ACTIVATION else IncidentTask.State.WAITING,
                due_at=due,
                next_check_at=due,
            )
        )
    return IncidentTask.objects.bulk_create(rows)


def _steps_for(playbook: Playbook, *, branch: bool) -> list[PlaybookStep]:
    skip = StepScope.HQ if branch else StepScope.BRANCH
    return [s for s in playbook.steps.all() if s.scope != skip]


def task_finish(task: IncidentTask, *, actor, now: datetime, note: str = "") -> bool:
    """Mark ``task`` done (compare-and-set on its state); return False when it already was."""
    done = IncidentTask.objects.filter(pk=task.pk).exclude(state=IncidentTask.State.DONE)
    if not done.update(state=IncidentTask.State.DONE, done_at=now, done_by=actor, next_check_at=None, note=note):
        return False
    task.state, task.done_at, task.done_by, task.note = IncidentTask.State.DONE, now, actor, note
    late = task.due_at is not None and now > task.due_at
    event_add(
        task.incident,
        kind="task_done",
        message=f"完成任务：{task.title}" + ("（已超时）" if late else ""),
        actor=actor,
        payload={"task_id": task.pk, "late": late},
        at=now,
    )
    return True


def tasks_finish_kind(incident: Incident, kind: str, *, actor, now: datetime, note: str = "") -> None:
    """The system did the work of every open task of ``kind`` (a report sent, a script published)."""
    for task in incident.tasks.filter(kind=kind, state=IncidentTask.State.OPEN):
        task.incident = incident
        task_finish(task, actor=actor, now=now, note=note)


@transaction.atomic
def task_complete(
    *, task_id: int, actor, incident_id: int | None = None, note: str = "", checklist: list[bool] | None = None
) -> IncidentTask:
    """An owner of the task's role (or a manager/leader/admin of the unit) marks it done; 404 when the
    task does not exist or does not belong to ``incident_id``."""
    task = IncidentTask.objects.filter(pk=task_id).select_related("incident").first()
    if task is None or (incident_id is not None and task.incident_id != incident_id):
        raise NotFound("task_not_found", "任务不存在", {"id": task_id})
    incident = incident_for_update(task.incident_id, actor)
    _require_unit(actor, incident)
    owners = IncidentParticipant.objects.filter(incident=incident, role_key=task.owner_role, user=actor).exists()
    if not owners and actor_role(actor) not in CLOSE_ROLES:
        raise Forbidden("not_task_owner", "只有任务负责角色或投诉管理员、领导可以完成该任务")
    if task.state == IncidentTask.State.DONE:
        raise Conflict("task_done", "任务已完成")
    if task.state == IncidentTask.State.WAITING:
        raise Conflict("task_waiting", "该任务在事件结束后才起算")
    if checklist is not None:
        if len(checklist) != len(task.checklist):
            raise InvalidInput("checklist_length", "检查项数量不符", {"expected": len(task.checklist)})
        task.checklist = [
            {"text": item["text"], "done": bool(v)} for item, v in zip(task.checklist, checklist, strict=True)
        ]
        IncidentTask.objects.filter(pk=task.pk).update(checklist=task.checklist)
    task.incident = incident
    task_finish(task, actor=actor, now=clock.now(), note=note[:MAX_TEXT])
    return task


# ---------------------------------------------------------------- open


def _root_unit() -> Department:
    unit = Department.objects.filter(parent__isnull=True, level=Department.Level.HQ).order_by("pk").first()
    if unit is None:
        raise Conflict("no_organisation", "尚未建立组织架构")
    return unit


def _clean_title(title: str) -> str:
    title = (title or "").strip()
    if not title or len(title) > MAX_TITLE or "\x00" in title:
        raise InvalidInput("invalid_title", f"标题不能为空，且不超过 {MAX_TITLE} 字", {"field": "title"})
    return title


def category_or_400(category_id: int | None):
    """The active category ``category_id`` (None stays None); 400 ``unknown_category`` otherwise."""
    if category_id is None:
        return None
    from kuaixiang.triage.models import Category

    category = Category.objects.filter(pk=category_id, active=True).first()
    if category is None:
        raise InvalidInput("unknown_category", "投诉分类不存在或已停用", {"field": "category_id"})
    return category


@dataclass(frozen=True)
class Opened:
    incident: Incident
    created: bool


def incident_open(
    *,
    playbook: Playbook | str,
    title: str,
    severity: str | None = None,
    description: str = "",
    actor=None,
    sandbox: bool = False,
    unit: Department | None = None,
    flags=(),
    warning_id: int | None = None,
    scope_label: str = "",
    match_category=None,
    complaints=(),
    now: datetime | None = None,
) -> Incident:
    """Open an incident under ``playbook`` (a Playbook or a code): participants from its roles, one
    task per step with its stored deadline, the given complaints linked, the initial report sent.

    ``actor=None`` is the system (a warning or a drill). A person must hold a declaring role
    (manager, leader, admin); the incident belongs to ``unit`` when given, else for a drill to the
    sandbox organisation (when built), else to the actor's unit (HQ for the system).
    ``sandbox=True`` marks a drill: its messages stay in the inbox, its people are the unit's own.
    Raises InvalidInput for an unknown playbook, severity or empty title; nothing is written then."""
    return _open(
        playbook=playbook,
        title=title,
        severity=severity,
        description=description,
        actor=actor,
        sandbox=sandbox,
        unit=unit,
        flags=flags,
        warning_id=warning_id,
        scope_label=scope_label,
        match_category=match_category,
        complaints=complaints,
        now=now,
    ).incident


@transaction.atomic
def _open(
    *,
    playbook,
    title,
    severity,
    description,
    actor,
    sandbox,
    unit,
    flags,
    warning_id,
    scope_label,
    match_category,
    complaints,
    now,
) -> Opened:
    from kuaixiang.crisis.links import links_add
    from kuaixiang.crisis.reports import initial_report_send

    if isinstance(playbook, str):
        playbook = playbook_current(playbook)
    _require_role(actor, DECLARE_ROLES, "只有投诉管理员、领导或系统管理员可以宣布危机事件")
    title = _clean_title(title)
    severity = severity or playbook.default_severity
    if severity not in SEVERITIES:
        raise InvalidInput("invalid_severity", f"级别应为 {', '.join(SEVERITIES)}", {"field": "severity"})
    if len(description or "") > MAX_TEXT or "\x00" in (description or ""):
        raise InvalidInput("invalid_description", f"情况说明不超过 {MAX_TEXT} 字", {"field": "description"})
    flags = list(flags or ())
    if len(flags) > 10 or not all(isinstance(f, str) and 0 < len(f) <= 40 and "\x00" not in f for f in flags):
        raise InvalidInput("invalid_flags", "标记应为不超过 10 个、每个不超过 40 字的文本", {"field": "flags"})
    now = now or clock.now()
    if unit is None and sandbox:
        from kuaixiang.alerts.sandbox import sandbox_root

        unit = sandbox_root()
    if unit is None:
        unit = actor_staff(actor).department.unit() if actor is not None else _root_unit()
    incident = Incident.objects.create(
        title=title,
        description=description or "",
        playbook=playbook,
        severity=severity,
        source=Incident.Source.WARNING if warning_id else Incident.Source.MANUAL,
        unit=unit,
        sandbox=sandbox,
        flags=sorted(set(flags)),
        warning_id=warning_id,
        scope_label=scope_label[:300],
        match_category=match_category,
        declared_by=actor,
        activated_at=now,
    )
    _participants_create(incident, now)
    _tasks_create(incident, _steps_for(playbook, branch=False), now)
    how = "预警自动启动" if warning_id else "人工宣布"
    event_add(
        incident,
        kind="open",
        message=f"{how}：{playbook.name}（{playbook.code} v{playbook.version}），"
        f"级别 {incident.get_severity_display()}",
        actor=actor,
        payload={"playbook": playbook.code, "version": playbook.version, "severity": severity, "sandbox": sandbox},
        at=now,
    )
    if complaints:
        source = IncidentComplaint.Source.WARNING if warning_id else IncidentComplaint.Source.MANUAL
        links_add(incident, complaints, source=source, now=now)
        incident.refresh_from_db(fields=["linked_count"])
    initial_report_send(incident=incident, actor=actor, now=now)
    return Opened(incident, True)


# ---------------------------------------------------------------- status


def _close_tasks(incident: Incident, now: datetime) -> None:
    """Start the close-anchored tasks' clocks; the hourly tracking ends with the incident."""
    kernel = _kernel()
    for task in incident.tasks.filter(state=IncidentTask.State.WAITING):
        due = task_due(kernel, now, task.amount, task.unit)
        IncidentTask.objects.filter(pk=task.pk, state=IncidentTask.State.WAITING).update(
            state=IncidentTask.State.OPEN, due_at=due, next_check_at=due
        )
    tasks_finish_kind(incident, StepKind.HOURLY, actor=None, now=now, note="事件结束，逐小时跟踪停止")


@transaction.atomic
def incident_stabilise(*, incident_id: int, actor, note: str = "") -> Incident:
    incident = incident_for_update(incident_id, actor)
    _require_role(actor, CLOSE_ROLES, "只有投诉管理员、领导可以宣布趋稳")
    _require_unit(actor, incident)
    if incident.status != Incident.Status.ACTIVE:
        raise Conflict("not_active", "只有处置中的事件可以转为趋稳观察", {"status": incident.status})
    now = clock.now()
    incident.status, incident.stabilised_at = Incident.Status.STABILISING, now
    incident.save(update_fields=["status", "stabilised_at"])
    event_add(incident, kind="stabilise", message="转为趋稳观察" + (f"：{note}" if note else ""), actor=actor, at=now)
    return incident


@transaction.atomic
def incident_close(*, incident_id: int, actor, note: str = "") -> Incident:
    """Close the incident (and its branch incidents): the close-anchored steps start counting now."""
    incident = incident_for_update(incident_id, actor)
    _require_role(actor, CLOSE_ROLES, "只有投诉管理员、领导可以结束事件")
    _require_unit(actor, incident)
    _require_open(incident)
    now = clock.now()
    for target in [incident, *incident.branches.exclude(status=Incident.Status.CLOSED)]:
        target.status, target.closed_at = Incident.Status.CLOSED, now
        target.save(update_fields=["status", "closed_at"])
        _close_tasks(target, now)
        event_add(target, kind="close", message="事件结束" + (f"：{note}" if note else ""), actor=actor, at=now)
    return incident


@transaction.atomic
def incident_report_update(*, incident_id: int, actor, cause=None, measures=None, responsibility=None) -> Incident:
    """Edit the special report's cause, corrective measures and responsibility (any time)."""
    incident = incident_for_update(incident_id, actor)
    _require_role(actor, REPORT_ROLES, "只有投诉管理员、公关、领导可以编写专题报告")
    _require_unit(actor, incident)
    changed = []
    for name, value in (("cause", cause), ("measures", measures), ("responsibility", responsibility)):
        if value is None:
            continue
        if len(value) > MAX_TEXT or "\x00" in value:
            raise InvalidInput("text_too_long", f"内容不超过 {MAX_TEXT} 字", {"field": name})
        setattr(incident, name, value.strip())
        changed.append(name)
    if not changed:
        raise InvalidInput("nothing_to_update", "请填写事件原因、整改措施或责任认定")
    incident.save(update_fields=changed)
    event_add(incident, kind="report_edit", message="更新专题报告内容", actor=actor, payload={"fields": changed})
    return incident


# ---------------------------------------------------------------- from warnings


def playbooks_matching(*, level: int | None, rule_code: str | None, flags=()) -> list[Playbook]:
    """The newest active version of each playbook code whose criteria the warning meets."""
    newest: dict[str, Playbook] = {}
    for playbook in Playbook.objects.filter(active=True).order_by("code", "-version"):
        newest.setdefault(playbook.code, playbook)
    return [p for p in newest.values() if criteria_met(criteria_of(p), level=level, rule_code=rule_code, flags=flags)]


@dataclass(frozen=True)
class WarningFacts:
    """What the crisis app needs of a warning, read inside the warning's transaction."""

    warning_id: int
    level: int
    rule_code: str
    category_id: int | None
    scope_label: str
    sandbox: bool
    flags: tuple[str, ...]
    complaint_ids: tuple[int, ...]
    unit_id: int | None
    raised_at: datetime
    rule_name: str = ""


@transaction.atomic
def incidents_from_warning(*, facts: WarningFacts, now: datetime | None = None) -> list[Incident]:
    """Open (or update) one incident per playbook the warning activates. Idempotent: a warning opens
    at most one incident per playbook; a warning on the category of an open incident of the same
    playbook joins it (its complaints are linked and the timeline says so)."""
    from kuaixiang.complaints.models import Complaint
    from kuaixiang.crisis.links import links_add
    from kuaixiang.triage.models import Category

    now = now or clock.now()
    result = []
    category = Category.objects.filter(pk=facts.category_id).first() if facts.category_id else None
    unit = Department.objects.filter(pk=facts.unit_id).first() if facts.unit_id else None
    if unit is None and facts.sandbox:
        from kuaixiang.alerts.sandbox import sandbox_root

        unit = sandbox_root()
    unit = unit or _root_unit()
    complaints = list(
        Complaint.objects.filter(pk__in=facts.complaint_ids).only("pk", "received_at", "intake_department_id", "number")
    )
    for playbook in playbooks_matching(level=facts.level, rule_code=facts.rule_code, flags=facts.flags):
        existing = (
            Incident.objects.filter(
                Q(warning_id=facts.warning_id) | Q(match_category=category, unit=unit, status__in=OPEN_STATUSES)
                if category
                else Q(warning_id=facts.warning_id),
                playbook__code=playbook.code,
                parent__isnull=True,
                sandbox=facts.sandbox,
            )
            .order_by("-pk")
            .first()
        )
        if existing is not None:
            if existing.status == Incident.Status.CLOSED or not _warning_seen(existing, facts, now):
                continue
            added = links_add(existing, complaints, source=IncidentComplaint.Source.WARNING, now=now)
            event_add(
                existing,
                kind="warning",
                message=f"预警 #{facts.warning_id} 升至 {facts.level} 级，并入本事件（新增关联 {added} 件）",
                payload={"warning_id": facts.warning_id, "level": facts.level},
                at=now,
            )
            result.append(existing)
            continue
        severity = {1: "yellow", 2: "orange", 3: "red"}.get(facts.level, playbook.default_severity)
        subject = (facts.scope_label or (category.name if category else "投诉")).split("/")[-1]
        title = f"{subject}：{facts.rule_name or facts.rule_code}（{facts.level} 级预警）"
        description = (
            f"预警 #{facts.warning_id}（规则 {facts.rule_code}）：{facts.scope_label}，"
            f"已聚集 {len(complaints)} 件投诉。"
        )
        try:
            with transaction.atomic():
                incident = incident_open(
                    playbook=playbook,
                    title=title[:MAX_TITLE],
                    severity=severity,
                    description=description,
                    actor=None,
                    sandbox=facts.sandbox,
                    unit=unit,
                    flags=facts.flags,
                    warning_id=facts.warning_id,
                    scope_label=facts.scope_label,
                    match_category=category,
                    complaints=complaints,
                    now=now,
                )
        except IntegrityError:  # another worker opened it first
            continue
        _warning_seen(incident, facts, now)
        event_add(
            incident,
            kind="warning",
            message=f"预警到达后 {(clock.now() - facts.raised_at).total_seconds():.1f} 秒启动",
            payload={"warning_id": facts.warning_id, "raised_at": facts.raised_at.isoformat()},
            at=now,
        )
        result.append(incident)
    return result


def _warning_seen(incident: Incident, facts: WarningFacts, now: datetime) -> bool:
    """Record that ``incident`` handled the warning at its level; False when it already had."""
    row, created = IncidentWarning.objects.get_or_create(
        incident=incident, warning_id=facts.warning_id, defaults={"level": facts.level, "at": now}
    )
    if created:
        return True
    return bool(IncidentWarning.objects.filter(pk=row.pk, level__lt=facts.level).update(level=facts.level, at=now))


def warnings_catch_up(*, now: datetime, within: timedelta = timedelta(hours=2)) -> int:
    """Handle the warnings of the last ``within`` that meet a playbook but were never handled at
    their level (their queued job was lost); return how many were handled now."""
    from kuaixiang.alerts.models import Warning, WarningComplaint

    handled = 0
    seen = {
        w: lvl for w, lvl in IncidentWarning.objects.filter(at__gte=now - within * 2).values_list("warning_id", "level")
    }
    for warning in Warning.objects.filter(updated_at__gte=now - within).select_related("rule").order_by("pk")[:200]:
        if seen.get(warning.pk, 0) >= warning.level:
            continue
        if not playbooks_matching(level=warning.level, rule_code=warning.rule.code):
            continue
        facts = WarningFacts(
            warning_id=warning.pk,
            level=warning.level,
            rule_code=warning.rule.code,
            rule_name=warning.rule.name,
            category_id=warning.category_id,
            scope_label=warning.scope_label,
            sandbox=warning.sandbox,
            flags=(),
            complaint_ids=tuple(
                WarningComplaint.objects.filter(warning=warning).values_list("complaint_id", flat=True)
            ),
            unit_id=None,
            raised_at=warning.updated_at,
        )
        if incidents_from_warning(facts=facts, now=now):
            handled += 1
    return handled
