"""The only writers of complaints. Each public function is one transaction that changes the
complaint, stamps a milestone, writes exactly one timeline event and queues notifications.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction

from kuaixiang import clock
from kuaixiang.bulk_insert import rows_insert
from kuaixiang.complaints import actions as payloads
from kuaixiang.complaints.intake import ComplaintInput, parse_regrade_input
from kuaixiang.complaints.lifecycle import TERMINAL, TRANSITIONS, State, Transition, guard, next_state
from kuaixiang.complaints.models import Attachment, Complaint, ComplaintEvent, IdempotencyKey
from kuaixiang.complaints.numbers import allocate_numbers
from kuaixiang.complaints.signals import complaint_transitioned, complaints_registered
from kuaixiang.errors import Conflict, Forbidden, InvalidInput, NotFound
from kuaixiang.notify.services import notifications_queue
from kuaixiang.org.models import Department, Staff
from kuaixiang.org.roles import Role
from kuaixiang.org.scope import scope_for, staff_record
from kuaixiang.sla.services import stages_on_regrade, stages_on_transition, stages_plan_registration, stages_save
from kuaixiang.triage.assess import classifier_note, links_apply, triage_assess
from kuaixiang.triage.models import Category


def staff_of(user) -> Staff:
    """Return the user's staff record; superusers without one act as HQ admins."""
    staff = getattr(user, "_kx_staff", None)
    if staff is None:
        staff = staff_record(user)
        if staff is None:
            if not user.is_superuser:
                raise Forbidden("not_staff", "当前账号未分配部门和角色，无法办理工单")
            hq = Department.objects.filter(parent__isnull=True).order_by("id").first()
            if hq is None:
                raise Forbidden("no_organisation", "尚未建立组织架构")
            staff = Staff(user=user, department=hq, role=Role.ADMIN)
        user._kx_staff = staff
    return staff


def role_of(user) -> str:
    return staff_of(user).role


# ---------------------------------------------------------------- registration


def _find_existing(*, actor, channel: str, external_id: str | None, idempotency_key: str | None) -> Complaint | None:
    if idempotency_key:
        key = IdempotencyKey.objects.filter(user=actor, key=idempotency_key).select_related("complaint").first()
        if key:
            return key.complaint
    if external_id:
        # Nearly every create misses here: probe with the id alone (building the full 50-column
        # SELECT is half the probe's cost) and load the complaint only on a hit.
        pk = Complaint.objects.filter(channel=channel, external_id=external_id).values_list("pk", flat=True).first()
        return Complaint.objects.get(pk=pk) if pk else None
    return None


def _check_category(category_id: int | None) -> None:
    if category_id is not None and not Category.objects.filter(pk=category_id, active=True).exists():
        raise InvalidInput("unknown_category", "投诉分类不存在或已停用", {"category_id": category_id})


def _new_complaint(data: ComplaintInput, *, staff: Staff, actor, number: str, now) -> Complaint:
    return Complaint(
        number=number,
        channel=data.channel,
        external_id=data.external_id,
        anonymous=data.anonymous,
        complainant_name=data.complainant_name,
        complainant_phone=data.complainant_phone or "",
        received_at=data.received_at or now,
        place=data.place,
        subject=data.subject,
        description=data.description,
        appeal=data.appeal,
        amount_claimed=data.amount_claimed,
        category_id=data.category_id,
        severity=data.severity,
        extra=data.extra,
        intake_department_id=staff.department_id,
        registered_by=actor,
        status=State.REGISTERED,
        created_at=now,
        updated_at=now,
    )


def _register_event(complaint: Complaint, actor, now) -> ComplaintEvent:
    return ComplaintEvent(
        complaint=complaint,
        actor=actor,
        at=now,
        action="register",
        from_status="",
        to_status=State.REGISTERED,
        payload={
            "channel": complaint.channel,
            "number": complaint.number,
            "severity": complaint.severity,
            "rules": [rule["code"] for rule in complaint.grading.get("rules", ())],
        },
    )


@dataclass(frozen=True)
class Registered:
    complaint: Complaint
    created: bool


def complaint_register(*, actor, data: ComplaintInput, idempotency_key: str | None = None) -> Registered:
    """Register one complaint; a repeat (same channel+external_id, or same Idempotency-Key
    from the same user) returns the complaint made the first time with ``created=False``."""
    staff = staff_of(actor)
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= 200:
        raise InvalidInput("invalid_idempotency_key", "Idempotency-Key 长度应为 1–200 个字符")
    lookup = {
        "actor": actor,
        "channel": data.channel,
        "external_id": data.external_id,
        "idempotency_key": idempotency_key,
    }
    existing = _find_existing(**lookup)
    if existing:
        return Registered(existing, False)
    _check_category(data.category_id)
    now = clock.now()
    complaint = _new_complaint(data, staff=staff, actor=actor, number="", now=now)
    triage_assess([complaint], now=now)  # grading, repeat and duplicate links (before the deadline: severity)
    classifier_note(complaint)
    stages = stages_plan_registration([complaint], now=now)  # sets due_at; saved with the complaint
    try:
        with transaction.atomic():
            (complaint.number,) = allocate_numbers(1)  # last: writers queue on the counter until commit
            complaint.save(force_insert=True)
            stages_save(stages)
            _register_event(complaint, actor, now).save(force_insert=True)
            if idempotency_key:
                IdempotencyKey.objects.create(user=actor, key=idempotency_key, complaint=complaint, created_at=now)
            complaints_registered.send(sender=Complaint, complaints=[complaint], actor=actor, now=now)
    except IntegrityError:
        # A concurrent request with the same external id or key won the race.
        existing = _find_existing(**lookup)
        if existing is None:
            raise
        return Registered(existing, False)
    return Registered(complaint, True)


@dataclass(frozen=True)
class BulkItemResult:
    index: int
    status: int
    complaint: Complaint | None = None
    error: dict | None = None


def complaint_register_bulk(
    *, actor, items: list[ComplaintInput | InvalidInput], at_receipt: bool = False
) -> list[BulkItemResult]:
    """Register many complaints in one transaction; invalid items are reported, not written.

    Items already known by (channel, external_id) — in the database or earlier in the same
    batch — return the existing complaint with status 200.

    With ``at_receipt`` (a replay of a recorded stream) each complaint is registered at its own
    ``received_at`` — its ``created_at``, its timeline event and what the receivers of
    ``complaints_registered`` count — as if the items had arrived one by one in that order; the
    signal's ``now`` is the latest of them. Items must carry ``received_at``, in order.
    """
    staff = staff_of(actor)
    results: dict[int, BulkItemResult] = {}
    valid: list[tuple[int, ComplaintInput]] = []
    known_categories = set(
        Category.objects.filter(
            pk__in={i.category_id for i in items if isinstance(i, ComplaintInput) and i.category_id}, active=True
        ).values_list("pk", flat=True)
    )
    for index, item in enumerate(items):
        if isinstance(item, InvalidInput):
            results[index] = BulkItemResult(index, 400, error=item.as_dict())
        elif item.category_id is not None and item.category_id not in known_categories:
            error = InvalidInput("unknown_category", "投诉分类不存在或已停用", {"category_id": item.category_id})
            results[index] = BulkItemResult(index, 400, error=error.as_dict())
        else:
            valid.append((index, item))

    keys = {(i.channel, i.external_id) for _, i in valid if i.external_id}
    existing: dict[tuple[str, str], Complaint] = {}
    if keys:
        for c in Complaint.objects.filter(external_id__in={k[1] for k in keys}):
            existing[(c.channel, c.external_id)] = c
    fresh: list[tuple[int, ComplaintInput]] = []
    first_in_batch: dict[tuple[str, str], int] = {}
    repeats: list[tuple[int, int]] = []
    for index, item in valid:
        key = (item.channel, item.external_id)
        if item.external_id and key in existing:
            results[index] = BulkItemResult(index, 200, existing[key])
        elif item.external_id and key in first_in_batch:
            repeats.append((index, first_in_batch[key]))
        else:
            if item.external_id:
                first_in_batch[key] = index
            fresh.append((index, item))

    if fresh:
        now = clock.now()
        times = [item.received_at if at_receipt else now for _, item in fresh]
        if at_receipt:
            if any(t is None for t in times) or times != sorted(times):
                raise InvalidInput("unordered_receipts", "按接收时间登记时，每条投诉都须有接收时间且按时间先后排列")
            now = times[-1]
        # Built before the transaction: from BEGIN IMMEDIATE (SQLite) or the number allocation
        # (the day's counter row, PostgreSQL) concurrent writers queue until this one commits.
        made = [
            _new_complaint(item, staff=staff, actor=actor, number="", now=at)
            for (_, item), at in zip(fresh, times, strict=True)
        ]
        assessed = triage_assess(made, now=now)
        stages = stages_plan_registration(made, now=now)
        try:
            with transaction.atomic():
                numbers = allocate_numbers(len(made))
                for complaint, number in zip(made, numbers, strict=True):
                    complaint.number = number
                rows_insert(made, with_ids=True)
                if made and made[0].pk is None:  # SQLite before 3.35: no RETURNING
                    by_number = dict(Complaint.objects.filter(number__in=numbers).values_list("number", "pk"))
                    for c in made:
                        c.pk = by_number[c.number]
                links_apply(made, assessed)
                rows_insert([_register_event(c, actor, c.created_at) for c in made])
                stages_save(stages)
                complaints_registered.send(sender=Complaint, complaints=made, actor=actor, now=now)
        except IntegrityError:
            # A concurrent writer registered one of these external ids: fall back item by item.
            for index, item in fresh:
                registered = complaint_register(actor=actor, data=item)
                results[index] = BulkItemResult(index, 201 if registered.created else 200, registered.complaint)
        else:
            for (index, _), complaint in zip(fresh, made, strict=True):
                results[index] = BulkItemResult(index, 201, complaint)
    for index, first in repeats:
        results[index] = BulkItemResult(index, 200, results[first].complaint)
    return [results[i] for i in range(len(items))]


# ---------------------------------------------------------------- lifecycle


def _transition_or_404(action: str) -> Transition:
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise NotFound("unknown_action", "不存在该操作", {"action": action})
    return transition


def _refusal(complaint: Complaint, transition: Transition, actor) -> tuple[int, str, str] | None:
    """Why ``actor`` may not do ``transition`` now, as (status, code, message); None if allowed."""
    staff = staff_of(actor)
    if staff.role not in transition.roles:
        return 403, "role_not_allowed", "当前角色无权执行该操作"
    if complaint.state not in transition.sources:
        return 409, "invalid_state", f"工单当前状态为「{complaint.get_status_display()}」，不能执行该操作"
    if transition.department_action and staff.role in (Role.HANDLER, Role.HEAD):
        if complaint.department_id is None or complaint.department_id not in scope_for(actor).own_department_ids:
            return 403, "not_your_department", "该工单不在本部门办理"
    refusal = guard(transition.action, complaint.state, satisfaction=complaint.satisfaction, solved=complaint.solved)
    if refusal:
        return 409, refusal, "回访满意且问题已解决的工单不能重启"
    return None


def allowed_actions(complaint: Complaint, actor) -> list[str]:
    """Actions ``actor`` may perform on ``complaint`` now (what the UI shows as buttons)."""
    return [a for a, t in TRANSITIONS.items() if _refusal(complaint, t, actor) is None]


def _department(department_id: int, actor) -> Department:
    """The active target of a dispatch or transfer, inside the actor's unit or at HQ.

    A branch sends work to its own departments or up to HQ, never sideways into another
    branch (seed 002: a case outside a unit's remit goes back to the centre for re-dispatch).
    """
    department = Department.objects.filter(pk=department_id, active=True).first()
    if department is None:
        raise InvalidInput("unknown_department", "部门不存在或已停用", {"department_id": department_id})
    own_unit = staff_of(actor).department.unit()
    target_unit = department.unit()
    if own_unit.level != Department.Level.HQ and target_unit.level != Department.Level.HQ and target_unit != own_unit:
        raise InvalidInput(
            "department_outside_unit",
            f"不能派往其他分公司的部门（{target_unit.name}）；请派往本单位或总部的部门",
            {"department_id": department_id},
        )
    return department


def _apply(complaint: Complaint, action: str, payload, actor, now) -> tuple[dict, str]:
    """Apply the action's own effects; return (event payload, note for notifications)."""
    data = payload.model_dump()
    note = ""
    match action:
        case "accept":
            complaint.accepted_at = now
        case "refuse":
            complaint.refuse_reason = payload.reason
            complaint.refused_at = complaint.closed_at = now
            note = f"不予受理原因（已告知投诉人）：{payload.reason}"
        case "dispatch" | "transfer":
            department = _department(payload.department_id, actor)
            if action == "transfer" and department.pk == complaint.department_id:
                raise InvalidInput("same_department", "转派的目标部门与当前部门相同")
            data["from_department_id"] = complaint.department_id
            complaint.department = department
            complaint.assignee = None
            complaint.dispatched_at = now
            data["department_name"] = department.name
            note = f"派往：{department.name}" + (f"；原因：{payload.reason}" if action == "transfer" else "")
        case "send_back":
            data["from_department_id"] = complaint.department_id
            complaint.department = None
            complaint.assignee = None
            note = f"退单原因：{payload.reason}"
        case "take":
            complaint.assignee = actor
            complaint.taken_at = now
        case "return":
            complaint.findings, complaint.solution = payload.findings, payload.solution
            complaint.returned_at = now
        case "review_pass":
            complaint.reviewed_at = now
        case "review_reject":
            note = f"驳回原因：{payload.reason}"
        case "reply":
            complaint.reply_content = payload.content
            complaint.replied_at = now
        case "revisit":
            complaint.satisfaction, complaint.solved = payload.satisfaction, payload.solved
            complaint.revisited_at = now
        case "reopen":
            complaint.reopen_count += 1
            complaint.assignee = None
            complaint.dispatched_at = now
            note = f"重启原因：{payload.reason}"
        case "reconsider":
            complaint.reconsider_count += 1
            complaint.closed_at = None
            complaint.department = None
            complaint.assignee = None
            note = f"复议原因：{payload.reason}"
        case "suspend":
            complaint.suspended_from = complaint.status
            complaint.suspended_at = now
            note = f"挂起原因：{payload.reason}"
        case "merge":
            target = _merge_target(complaint, payload.into_id, actor)
            complaint.merged_into = target
            complaint.closed_at = now
            data["into_number"] = target.number
            note = f"已合并至 {target.number}"
        case "archive":
            complaint.archived_at = complaint.closed_at = now
    return data, note


def _merge_target(complaint: Complaint, into_id: int, actor) -> Complaint:
    if into_id == complaint.pk:
        raise InvalidInput("merge_into_self", "不能合并到工单自身")
    target = Complaint.objects.filter(scope_for(actor).complaint_filter(), pk=into_id).first()
    if target is None:
        raise InvalidInput("unknown_complaint", "目标工单不存在或不在您的数据范围内", {"into_id": into_id})
    if target.state in TERMINAL:
        raise InvalidInput("merge_into_closed", f"目标工单已{target.get_status_display()}，不能合并")
    return target


def complaint_transition(*, complaint_id: int, action: str, actor, data: dict | None = None) -> Complaint:
    """Perform ``action`` on a complaint in one transaction, or raise a ``DomainError`` and
    change nothing: 404 unknown/out of scope, 403 wrong role or department, 409 wrong state,
    400 bad payload."""
    transition = _transition_or_404(action)
    with transaction.atomic():
        complaint = (
            Complaint.objects.select_for_update(of=("self",))
            .select_related("department")
            .filter(scope_for(actor).complaint_filter(), pk=complaint_id)
            .first()
        )
        if complaint is None:
            raise NotFound("complaint_not_found", "工单不存在或不在您的数据范围内", {"id": complaint_id})
        refusal = _refusal(complaint, transition, actor)
        if refusal:
            status, code, message = refusal
            error = Forbidden if status == 403 else Conflict
            raise error(code, message, {"action": action, "status": complaint.status})
        payload = payloads.parse_payload(action, data)
        now = clock.now()
        before = complaint.state
        resume_to = State(complaint.suspended_from) if complaint.suspended_from else None
        event_payload, note = _apply(complaint, action, payload, actor, now)
        complaint.status = next_state(transition, before, resume_to)
        if action == "resume":
            complaint.suspended_from = ""
        stages_on_transition(
            complaint=complaint,
            action=action,
            before=before,
            now=now,
            pause_reason=getattr(payload, "pause_reason", "other"),
        )
        complaint.updated_at = now
        complaint.save()
        ComplaintEvent.objects.create(
            complaint=complaint,
            actor=actor,
            at=now,
            action=action,
            from_status=before,
            to_status=complaint.status,
            payload=event_payload,
        )
        notifications_queue(
            complaint=complaint, action=action, action_label=payloads.LABELS[action], actor=actor, note=note
        )
        complaint_transitioned.send(
            sender=Complaint, complaint=complaint, action=action, before=before, actor=actor, now=now
        )
    return complaint


# ---------------------------------------------------------------- grading override

REGRADE_ROLES = frozenset({Role.AGENT, Role.LEAD, Role.HEAD, Role.MANAGER, Role.ADMIN})
GRADE_FIELDS = ("severity", "intent", "request_type", "validity", "validity_reason", "flags")


def can_regrade(complaint: Complaint, actor) -> bool:
    return staff_of(actor).role in REGRADE_ROLES and complaint.state not in TERMINAL


def complaint_regrade(*, complaint_id: int, actor, data: dict) -> Complaint:
    """Override the grading (severity, intent, request type, validity with its reason, flags).

    Fields not given stay as they are; ``validity: invalid`` needs a ``validity_reason`` and
    ``valid`` clears it. Writes exactly one ``regrade`` timeline event with ``before``,
    ``after`` (the changed fields only) and ``reason``, and records the override in
    ``grading["override"]``. 404 outside scope, 403 for roles other than agent, lead, head,
    manager and admin, 409 on a merged or archived complaint, 400 for bad values or no change.
    """
    grade = parse_regrade_input(data)
    wanted = grade.model_dump(exclude_none=True, exclude={"reason"})
    with transaction.atomic():
        complaint = (
            Complaint.objects.select_for_update(of=("self",))
            .filter(scope_for(actor).complaint_filter(), pk=complaint_id)
            .first()
        )
        if complaint is None:
            raise NotFound("complaint_not_found", "工单不存在或不在您的数据范围内", {"id": complaint_id})
        if staff_of(actor).role not in REGRADE_ROLES:
            raise Forbidden("role_not_allowed", "当前角色无权调整分级")
        if complaint.state in TERMINAL:
            raise Conflict("complaint_closed", f"工单已{complaint.get_status_display()}，不能调整分级")
        if "flags" in wanted:
            wanted["flags"] = list(dict.fromkeys(wanted["flags"]))
        validity = wanted.get("validity", complaint.validity)
        if validity == "valid":
            if wanted.get("validity_reason"):
                raise InvalidInput("validity_reason_for_valid", "有效投诉不需要无效原因")
            wanted["validity_reason"] = ""
        elif not wanted.get("validity_reason", complaint.validity_reason if "validity" not in wanted else ""):
            raise InvalidInput("validity_reason_required", "判定为无效投诉时必须选择无效原因")
        before = {f: getattr(complaint, f) for f in GRADE_FIELDS if f in wanted and getattr(complaint, f) != wanted[f]}
        after = {f: wanted[f] for f in before}
        if not after:
            raise InvalidInput("regrade_unchanged", "分级没有变化")
        now = clock.now()
        for name, value in after.items():
            setattr(complaint, name, value)
        complaint.grading = {
            **complaint.grading,
            "override": {"by": actor.get_username(), "at": now.isoformat(), "fields": sorted(after)},
        }
        complaint.updated_at = now
        replanned = stages_on_regrade(complaint=complaint)  # another policy may match now
        complaint.save(update_fields=[*after, "grading", "updated_at", "due_at"])
        payload = {"before": before, "after": after, "reason": grade.reason}
        if replanned:
            payload["replanned"] = replanned
        ComplaintEvent.objects.create(
            complaint=complaint,
            actor=actor,
            at=now,
            action="regrade",
            from_status=complaint.status,
            to_status=complaint.status,
            payload=payload,
        )
    return complaint


# ---------------------------------------------------------------- attachments

ALLOWED_ATTACHMENT_TYPES = (
    "image/",
    "audio/",
    "video/",
    "text/plain",
    "application/pdf",
    "application/msword",
    "application/vnd.openxmlformats-officedocument",
    "application/vnd.ms-excel",
    "application/zip",
)


def attachment_add(*, complaint_id: int, actor, upload) -> Attachment:
    """Store one evidence file (photo, recording, invoice …) on a complaint in the actor's scope."""
    if upload.size > settings.KX_ATTACHMENT_MAX_BYTES:
        limit_mb = settings.KX_ATTACHMENT_MAX_BYTES // (1024 * 1024)
        raise InvalidInput("attachment_too_large", f"附件过大，单个文件最多 {limit_mb} MB", {"size": upload.size})
    content_type = (upload.content_type or "application/octet-stream").lower()
    if not content_type.startswith(ALLOWED_ATTACHMENT_TYPES):
        raise InvalidInput("attachment_type_not_allowed", "不支持该类型的附件", {"content_type": content_type})
    name = (upload.name or "附件").replace("/", "_").replace("\\", "_")[-200:]
    with transaction.atomic():
        complaint = (
            Complaint.objects.select_for_update().filter(scope_for(actor).complaint_filter(), pk=complaint_id).first()
        )
        if complaint is None:
            raise NotFound("complaint_not_found", "工单不存在或不在您的数据范围内", {"id": complaint_id})
        if complaint.state in TERMINAL:
            raise Conflict("complaint_closed", "工单已关闭，不能再添加附件")
        now = clock.now()
        attachment = Attachment(
            complaint=complaint,
            name=name,
            size=upload.size,
            content_type=content_type,
            uploaded_by=actor,
            uploaded_at=now,
        )
        attachment.file.save(name, upload, save=False)
        attachment.save()
        ComplaintEvent.objects.create(
            complaint=complaint,
            actor=actor,
            at=now,
            action="attach",
            from_status=complaint.status,
            to_status=complaint.status,
            payload={"attachment_id": attachment.pk, "name": name},
        )
    return attachment


def attachments_add(*, complaint_id: int, actor, uploads) -> list[Attachment]:
    """Store several files all or none; a refused file names itself in the error (``details.file``)
    and the files already stored for this call are deleted with their rolled-back rows."""
    saved: list[Attachment] = []
    try:
        with transaction.atomic():
            for upload in uploads:
                try:
                    saved.append(attachment_add(complaint_id=complaint_id, actor=actor, upload=upload))
                except InvalidInput as exc:
                    details = {**exc.details, "file": upload.name}
                    raise InvalidInput(exc.code, f"{upload.name}：{exc.message}", details) from None
    except Exception:
        for attachment in saved:
            attachment.file.delete(save=False)
        raise
    return saved
