"""Stage deadlines of complaints (环节时限) and their escalation (分级督办).

The complaint services call :func:`stages_plan_registration` / :func:`stages_save` when
complaints are registered and :func:`stages_on_transition` inside every lifecycle
transaction. Deadlines are computed once, when a stage starts, by the working-time kernel;
a year the calendar does not know leaves ``due_at`` NULL with a ``calendar_error`` (logged),
never a guess. See docs/sla.md.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction

from kuaixiang.batch import batch_job
from kuaixiang.bulk_insert import rows_insert
from kuaixiang.sla import selectors
from kuaixiang.sla.calendars import DEFAULT_CALENDAR, calendar_get
from kuaixiang.sla.models import (
    ComplaintStage,
    DigestItem,
    EscalationStep,
    EscalationTrigger,
    SlaPolicy,
    SlaTarget,
    Stage,
)
from kuaixiang.sla.signals import stage_escalated
from kuaixiang.sla.worktime import CLOCK_UNITS, BusinessCalendar, CalendarYearUnknown, Unit

log = logging.getLogger(__name__)

REGISTRATION_STAGES = (Stage.FIRST_CONTACT, Stage.ACCEPTANCE, Stage.DISPATCH, Stage.SOLUTION, Stage.CLOSURE)
HANDLING = (Stage.DEPARTMENT_RETURN, Stage.ON_SITE)

# action -> (stages completed, stages started); "*" completes every running stage.
STAGE_MOVES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "accept": ((Stage.FIRST_CONTACT, Stage.ACCEPTANCE), (Stage.REPLY,)),
    "refuse": (("*",), ()),
    "dispatch": ((Stage.DISPATCH,), HANDLING),
    "transfer": ((Stage.DISPATCH, *HANDLING), HANDLING),
    "send_back": (HANDLING, ()),
    "return": ((*HANDLING, Stage.SOLUTION), (Stage.VERIFICATION,)),
    "review_pass": ((Stage.VERIFICATION,), ()),
    "review_reject": ((Stage.VERIFICATION,), ()),
    "reply": ((Stage.REPLY,), (Stage.REVISIT,)),
    "revisit": ((Stage.REVISIT,), ()),
    "reopen": ((Stage.REVISIT,), (Stage.DEPARTMENT_RETURN, Stage.REPLY)),
    "reconsider": ((), (Stage.REPLY, Stage.CLOSURE)),
    "merge": (("*",), ()),
    "archive": (("*",), ()),
}


class Kernels:
    """Calendars looked up once per operation (each lookup costs a query)."""

    def __init__(self) -> None:
        self._by_code: dict[str, BusinessCalendar] = {}

    def for_target(self, target: SlaTarget) -> BusinessCalendar:
        code = target.calendar.code if target.calendar_id else DEFAULT_CALENDAR
        if code not in self._by_code:
            self._by_code[code] = calendar_get(code)
        return self._by_code[code]


def _target(policy: SlaPolicy, stage: str, department_function: str = "") -> SlaTarget | None:
    """The policy's target for ``stage``: the one for the department's function, else the general one."""
    general = None
    for target in policy.targets.all():
        if target.stage != stage:
            continue
        if department_function and target.department_function == department_function:
            return target
        if not target.department_function:
            general = target
    return general


def _warn_at(kernel: BusinessCalendar, target: SlaTarget, start: datetime, due: datetime) -> datetime:
    ratio = float(target.warn_ratio)
    if Unit(target.unit) in CLOCK_UNITS:
        return start + (due - start) * ratio
    span = kernel.elapsed(start, due)
    return kernel.add(start, span.total_seconds() * ratio / 60, Unit.WORKING_MINUTES)


def _extend(kernel: BusinessCalendar, target: SlaTarget, instant: datetime, seconds: int) -> datetime:
    """``instant`` moved later by ``seconds`` of paused time (working or clock, as the target counts)."""
    if Unit(target.unit) in CLOCK_UNITS:
        return instant + timedelta(seconds=seconds)
    return kernel.add(instant, seconds / 60, Unit.WORKING_MINUTES)


def _calendar_failure(row: ComplaintStage, exc: CalendarYearUnknown) -> None:
    row.due_at = row.warn_at = row.next_check_at = None
    row.calendar_error = f"缺少 {exc.year} 年节假日数据，时限未计算"
    log.warning("SLA stage %s of complaint %s: no calendar data for %s", row.stage, row.complaint_id, exc.year)


def _ladder_instant(kernel: BusinessCalendar, row: ComplaintStage, step: EscalationStep) -> datetime | None:
    base = row.warn_at if step.trigger == EscalationTrigger.WARN else row.due_at
    if base is None:
        return None
    if step.offset_amount:
        return kernel.add(base, float(step.offset_amount), step.offset_unit)
    return base


def _schedule_next(kernel: BusinessCalendar, row: ComplaintStage, policy: SlaPolicy) -> None:
    """Set ``next_check_at`` to when the next escalation level is due (None: nothing left)."""
    row.next_check_at = None
    if row.completed_at or row.paused_at or row.due_at is None:
        return
    for step in policy.ladder.all():
        if step.level > row.escalation_level:
            try:
                row.next_check_at = _ladder_instant(kernel, row, step)
            except CalendarYearUnknown as exc:
                _calendar_failure(row, exc)
            return


def stage_begin(
    *, complaint, stage: str, policy: SlaPolicy, start: datetime, kernels: Kernels, department_function: str = ""
) -> ComplaintStage | None:
    """An unsaved running stage with its deadline, or None when the policy does not time ``stage``."""
    target = _target(policy, stage, department_function)
    if target is None:
        return None
    row = ComplaintStage(complaint=complaint, stage=stage, started_at=start)
    _deadlines_plan(row, policy, target, kernels)
    return row


def _deadlines_plan(row: ComplaintStage, policy: SlaPolicy, target: SlaTarget, kernels: Kernels) -> None:
    """Set the stage's ``target``, ``due_at`` and ``warn_at`` counted from its start, later by the
    time it has been paused, and schedule its next escalation level."""
    kernel = kernels.for_target(target)
    row.policy, row.target, row.calendar_error = policy, target, ""
    try:
        due = kernel.add(row.started_at, float(target.amount), target.unit, holiday_roll=target.holiday_roll)
        warn = _warn_at(kernel, target, row.started_at, due)
        if row.paused_seconds:  # a re-planned stage that has been paused
            due = _extend(kernel, target, due, row.paused_seconds)
            warn = _extend(kernel, target, warn, row.paused_seconds)
        row.due_at, row.warn_at = due, warn
    except CalendarYearUnknown as exc:
        _calendar_failure(row, exc)
        return
    _schedule_next(kernel, row, policy)


def _earliest_due(rows) -> datetime | None:
    dues = [r.due_at for r in rows if r.completed_at is None and r.paused_at is None and r.due_at is not None]
    return min(dues) if dues else None


# ---------------------------------------------------------------- registration


def _paths(complaints, policies: list[SlaPolicy]) -> tuple[dict[int, str], dict[int, str]]:
    """Materialised paths of the complaints' categories and intake departments, queried only
    when some policy matches on category or branch."""
    from kuaixiang.org.models import Department
    from kuaixiang.triage.models import Category

    categories: dict[int, str] = {}
    departments: dict[int, str] = {}
    category_ids = {c.category_id for c in complaints if c.category_id}
    if category_ids and any(p.category_id for p in policies):
        categories = dict(Category.objects.filter(pk__in=category_ids).values_list("pk", "path"))
    if any(p.branch_id for p in policies):
        department_ids = {c.intake_department_id for c in complaints}
        departments = dict(Department.objects.filter(pk__in=department_ids).values_list("pk", "path"))
    return categories, departments


def _match_keys(complaint, categories: dict[int, str], departments: dict[int, str]) -> dict:
    """The complaint's attributes policies match on."""
    extra = complaint.extra if isinstance(complaint.extra, dict) else {}
    difficulty = extra.get("difficulty")
    return {
        "channel": complaint.channel,
        "severity": complaint.severity,
        "category_path": categories.get(complaint.category_id, ""),
        "department_path": departments.get(complaint.intake_department_id, ""),
        "intent": complaint.intent,
        "difficulty": difficulty if isinstance(difficulty, str) else "",
        "flags": frozenset(key for key, value in extra.items() if value is True),
    }


def stages_plan_registration(complaints: list, *, now: datetime) -> list[ComplaintStage]:
    """Match each new complaint's policy (the version in force at receipt) and plan its first
    stages; set each complaint's ``due_at``. Works before the complaints are inserted: save the
    returned rows with :func:`stages_save` once they have ids."""
    if not complaints:
        return []
    table = selectors.policy_table()
    if not table:
        return []
    categories, departments = _paths(complaints, list(table.values()))
    planned: list[ComplaintStage] = []
    kernels = Kernels()
    for complaint in complaints:
        received = complaint.received_at or now
        policies = selectors.policies_in_force(received, table=table)
        policy = selectors.policy_match(policies, **_match_keys(complaint, categories, departments))
        if policy is None:
            continue
        rows = [
            row
            for stage in REGISTRATION_STAGES
            if (row := stage_begin(complaint=complaint, stage=stage, policy=policy, start=received, kernels=kernels))
        ]
        complaint.due_at = _earliest_due(rows)
        planned.extend(rows)
    return planned


def stages_save(rows: list[ComplaintStage]) -> None:
    """Insert planned stages whose complaints have been saved since planning (their ids are not
    read back): registration inserts five stages per complaint (:func:`rows_insert`)."""
    for row in rows:
        row.complaint_id = row.complaint.pk
    rows_insert(rows)


# ---------------------------------------------------------------- lifecycle


def _policy_of(complaint, rows: list[ComplaintStage]) -> SlaPolicy | None:
    """The version recorded on the complaint's stages; else the one in force at receipt."""
    policy_id = rows[0].policy_id if rows else None
    if policy_id is None:
        policy_id = ComplaintStage.objects.filter(complaint_id=complaint.pk).values_list("policy_id", flat=True).first()
    if policy_id is not None:
        return selectors.policy_with_rules(policy_id)
    return _policy_matching(complaint)


def _policy_matching(complaint) -> SlaPolicy | None:
    """The policy version in force at receipt that matches the complaint's attributes now."""
    policies = selectors.policies_in_force(complaint.received_at)
    categories, departments = _paths([complaint], policies)
    return selectors.policy_match(policies, **_match_keys(complaint, categories, departments))


def stages_on_transition(*, complaint, action: str, before: str, now: datetime, pause_reason: str = "other") -> None:
    """Start, complete, pause or resume the complaint's stages for ``action`` and refresh
    ``complaint.due_at`` (the caller saves the complaint). Call inside the transition's
    transaction, after the action's effects (department, status) are applied; a suspension
    passes its ``pause_reason``."""
    moves = STAGE_MOVES.get(action)
    if moves is None and action not in ("resume", "suspend"):
        return
    # Only running stages matter here; their targets come from the cached policy table.
    rows = list(ComplaintStage.objects.filter(complaint_id=complaint.pk, completed_at__isnull=True))
    if action == "suspend":
        _stages_suspend(complaint, rows, pause_reason, now)
        complaint.due_at = _earliest_due(rows)
        return
    running = rows
    changed: list[ComplaintStage] = []
    policy: SlaPolicy | None = None
    kernels = Kernels()

    def policy_needed() -> SlaPolicy | None:
        nonlocal policy
        if policy is None:
            policy = _policy_of(complaint, rows)
        return policy

    if action == "resume":
        for row in running:
            if row.paused_at is None:
                continue
            resolved = policy_needed()
            target = next((t for t in resolved.targets.all() if t.pk == row.target_id), None) if resolved else None
            if target is not None:
                kernel = kernels.for_target(target)
                clock = Unit(target.unit) in CLOCK_UNITS
                try:
                    paused = int(kernel.elapsed(row.paused_at, now, clock=clock).total_seconds())
                    row.paused_seconds += paused
                    if row.due_at is not None:
                        row.due_at = _extend(kernel, target, row.due_at, paused)
                        row.warn_at = _extend(kernel, target, row.warn_at, paused)
                except CalendarYearUnknown as exc:
                    _calendar_failure(row, exc)
                row.paused_at = None
                _schedule_next(kernel, row, resolved)
            else:
                row.paused_at = None
                if resolved is not None and row.due_at is not None:
                    _schedule_next(calendar_get(DEFAULT_CALENDAR), row, resolved)
            changed.append(row)
    else:
        completes, starts = moves
        for row in running:
            if "*" in completes or row.stage in completes:
                row.completed_at = now
                row.paused_at = row.next_check_at = None
                row.breached = row.breached or (row.due_at is not None and now > row.due_at)
                changed.append(row)
        still_running = {r.stage for r in running if r.completed_at is None}
        new_rows = []
        if starts and policy_needed() is not None:
            function = complaint.department.function if complaint.department_id else ""
            for stage in starts:
                if stage in still_running:
                    continue
                row = stage_begin(
                    complaint=complaint,
                    stage=stage,
                    policy=policy,
                    start=now,
                    kernels=kernels,
                    department_function=function,
                )
                if row is not None:
                    new_rows.append(row)
        if new_rows:
            ComplaintStage.objects.bulk_create(new_rows)
        rows = rows + new_rows
    for row in changed:
        row.save(
            update_fields=[
                "due_at",
                "warn_at",
                "paused_at",
                "paused_seconds",
                "completed_at",
                "breached",
                "next_check_at",
                "calendar_error",
            ]
        )
    complaint.due_at = _earliest_due(rows)


def stages_on_regrade(*, complaint) -> list[str]:
    """Re-plan the running stages when a regrade makes another policy match (a complaint raised
    to 重大 gets the major policy's shorter limits). Each running stage the new policy times takes
    its target there: the deadline counted again from when the stage started, plus the time it has
    been paused; escalation levels already fired stay fired, and one now overdue fires at the next
    sweep. Stages the new policy does not time keep theirs. Refresh ``complaint.due_at`` (the
    caller saves the complaint) and return the re-planned stages' names."""
    rows = list(ComplaintStage.objects.filter(complaint_id=complaint.pk, completed_at__isnull=True).order_by("pk"))
    if not rows:
        return []
    policy = _policy_matching(complaint)
    if policy is None or all(row.policy_id == policy.pk for row in rows):
        return []
    function = complaint.department.function if complaint.department_id else ""
    kernels = Kernels()
    changed: list[ComplaintStage] = []
    for row in rows:
        target = _target(policy, row.stage, function)
        if target is not None:
            _deadlines_plan(row, policy, target, kernels)
            changed.append(row)
    ComplaintStage.objects.bulk_update(
        changed, ["policy", "target", "due_at", "warn_at", "next_check_at", "calendar_error"]
    )
    complaint.due_at = _earliest_due(rows)
    return [row.stage for row in changed]


def _stages_suspend(complaint, rows: list[ComplaintStage], reason: str, now: datetime) -> None:
    """Stop the clocks ``reason`` names: the policy's ``pause_reasons`` maps a reason (customer /
    test / appraisal / other) to the stages it stops ("*" all); a reason it does not list stops
    every stage when ``pause_on_suspend`` (else none)."""
    policy = _policy_of(complaint, rows) if rows else None
    if policy is None:
        return
    stopped = policy.paused_stages(reason)
    for row in rows:
        if row.paused_at is None and ("*" in stopped or row.stage in stopped):
            row.paused_at, row.next_check_at = now, None
            row.save(update_fields=["paused_at", "next_check_at"])


# ---------------------------------------------------------------- escalation


@dataclass(frozen=True)
class Escalated:
    stage_id: int
    level: int


def stage_escalate(
    *,
    stage_id: int,
    now: datetime,
    kernels: Kernels | None = None,
    row: ComplaintStage | None = None,
    policies: dict[int, SlaPolicy] | None = None,
) -> list[Escalated]:
    """Fire every escalation level of one stage that is due at ``now``, each exactly once.

    Each level is claimed with a compare-and-set on ``escalation_level``; only the worker
    whose update reports one row writes the timeline event and the notifications, in the
    same transaction. A level whose instant cannot be computed pushes the check forward.
    The row is read once: after a successful claim the in-memory row is what the database
    holds, and a concurrent change (completion, pause, another worker) fails the next claim.
    A sweep passes the ``row`` it read (with ``complaint`` and ``target__calendar``) and the
    policy table, to save those reads per row.
    """
    fired: list[Escalated] = []
    kernels = kernels or Kernels()
    if row is None:
        row = ComplaintStage.objects.select_related("complaint", "target__calendar").filter(pk=stage_id).first()
    if row is None:
        return fired
    policy = policies.get(row.policy_id) if policies else None
    policy = policy or selectors.policy_with_rules(row.policy_id)
    while True:
        if row.completed_at or row.paused_at or row.next_check_at is None or row.next_check_at > now:
            return fired
        steps = [s for s in policy.ladder.all() if s.level > row.escalation_level]
        if not steps:
            ComplaintStage.objects.filter(pk=row.pk, escalation_level=row.escalation_level).update(next_check_at=None)
            return fired
        step = steps[0]
        kernel = kernels.for_target(row.target) if row.target_id else calendar_get(DEFAULT_CALENDAR)
        old, old_check = row.escalation_level, row.next_check_at
        row.escalation_level = step.level
        row.breached = row.breached or step.trigger == EscalationTrigger.BREACH
        _schedule_next(kernel, row, policy)
        with transaction.atomic(savepoint=False):  # inside a sweep, the stage's savepoint covers it
            # The row as read (level and schedule): any change since (another worker, a pause
            # and resume, completion) makes the claim fail.
            claimed = ComplaintStage.objects.filter(
                pk=row.pk,
                escalation_level=old,
                next_check_at=old_check,
                completed_at__isnull=True,
                paused_at__isnull=True,
            ).update(escalation_level=step.level, next_check_at=row.next_check_at, breached=row.breached)
            if claimed != 1:
                return fired
            _event(row, step, now).save()
            _announce([(row, step, kernel, policy)], now)
        fired.append(Escalated(row.pk, step.level))


def _event(row: ComplaintStage, step: EscalationStep, now: datetime):
    """The (unsaved) timeline event of one fired level."""
    from kuaixiang.complaints.models import ComplaintEvent

    complaint = row.complaint
    payload = {
        "level": step.level,
        "stage": row.stage,
        "trigger": step.trigger,
        "due_at": row.due_at.isoformat() if row.due_at else None,
        "roles": list(step.notify_roles),
    }
    return ComplaintEvent(
        complaint=complaint,
        actor=None,
        at=now,
        action="escalate",
        from_status=complaint.status,
        to_status=complaint.status,
        payload=payload,
    )


def _announce(fired: list[tuple[ComplaintStage, EscalationStep, BusinessCalendar, SlaPolicy]], now: datetime) -> None:
    """Notify the roles of each fired level (or queue digest items), then send ``stage_escalated``
    once per level. Recipients of all the levels are resolved together and the outbox (or digest)
    rows written with one insert, so the cost per batch is a fixed number of statements."""
    from kuaixiang.notify.services import notifications_escalate_many

    messages, digests = [], []
    for row, step, kernel, policy in fired:
        label = Stage(row.stage).label
        what = "即将超时" if step.trigger == EscalationTrigger.WARN else "已超时"
        due = row.due_at.astimezone(kernel.tz).strftime("%Y-%m-%d %H:%M") if row.due_at else "未知"
        label, note = f"{label}{what}（{step.level} 级督办）", f"{label}时限：{due}"
        if policy.digest:
            digests.append((row, step, label, note))
        else:
            messages.append((row.complaint, list(step.notify_roles), label, note))
    if messages:
        notifications_escalate_many(items=messages)
    if digests:
        _digest_add(digests, now)
    for row, step, _, _ in fired:
        stage_escalated.send(sender=ComplaintStage, stage=row, complaint=row.complaint, level=step.level, now=now)


class _Contended(Exception):
    """Another worker changed a row of the batch since it was read: replay stage by stage."""


def _claim(claims: list[tuple[ComplaintStage, int, int, datetime]]) -> int:
    """Compare-and-set of many stages in one UPDATE; return how many rows it changed.

    Each ``(row, level, old_level, old_check)`` moves ``row`` from ``old_level`` and
    ``old_check`` (as read) to ``level`` and the row's in-memory ``next_check_at`` and
    ``breached``, provided it is still running and unpaused. The new values travel as a
    ``VALUES`` list joined on the id (``UPDATE … FROM``: PostgreSQL, SQLite ≥ 3.33), so the
    statement costs the same to build for one row or a hundred; at most 150 rows per call
    (SQLite's 999 parameters)."""
    meta = ComplaintStage._meta
    column = {name: connection.ops.quote_name(meta.get_field(name).column) for name in _CLAIMED}
    table, pk = connection.ops.quote_name(meta.db_table), connection.ops.quote_name(meta.pk.column)
    postgres = connection.vendor == "postgresql"
    values = (
        "(%s::bigint, %s::integer, %s::timestamptz, %s::integer, %s::timestamptz, %s::boolean)"
        if postgres
        else "(%s, %s, %s, %s, %s, %s)"
    )
    adapt = connection.ops.adapt_datetimefield_value
    params: list = []
    for row, level, old_level, old_check in claims:
        params += [row.pk, old_level, adapt(old_check), level, adapt(row.next_check_at), row.breached]
    sql = (
        f"UPDATE {table} SET {column['escalation_level']} = v.column4, {column['next_check_at']} = v.column5, "  # noqa: S608 — names from the model, values bound
        f"{column['breached']} = v.column6 FROM (VALUES {', '.join([values] * len(claims))}) AS v "
        f"WHERE {table}.{pk} = v.column1 AND {table}.{column['escalation_level']} = v.column2 "
        f"AND {table}.{column['next_check_at']} = v.column3 "
        f"AND {table}.{column['completed_at']} IS NULL AND {table}.{column['paused_at']} IS NULL"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


_CLAIMED = ("escalation_level", "next_check_at", "breached", "completed_at", "paused_at")


def _escalate_batch(batch: list[ComplaintStage], now: datetime, kernels: Kernels, policies) -> list[Escalated]:
    """Fire the due level of every stage in ``batch`` with one claim and one event insert.

    The claim is one compare-and-set UPDATE over all the batch's rows (each on its level and
    schedule as read); unless it reports every row, ``_Contended`` is raised and the caller
    replays the batch stage by stage. Stages with more than one level due, or none left,
    take the per-stage path. Call inside a savepoint."""
    from kuaixiang.complaints.models import ComplaintEvent

    plans, others = [], []
    for row in batch:
        if row.completed_at or row.paused_at or row.next_check_at is None or row.next_check_at > now:
            continue
        policy = (policies.get(row.policy_id) if policies else None) or selectors.policy_with_rules(row.policy_id)
        steps = [s for s in policy.ladder.all() if s.level > row.escalation_level]
        if not steps:
            others.append(row)
            continue
        step = steps[0]
        kernel = kernels.for_target(row.target) if row.target_id else calendar_get(DEFAULT_CALENDAR)
        before = (row.escalation_level, row.next_check_at, row.breached, row.due_at, row.warn_at, row.calendar_error)
        row.escalation_level = step.level
        row.breached = row.breached or step.trigger == EscalationTrigger.BREACH
        _schedule_next(kernel, row, policy)
        if row.next_check_at is not None and row.next_check_at <= now:  # several levels due: per stage
            (row.escalation_level, row.next_check_at, row.breached, row.due_at, row.warn_at, row.calendar_error) = (
                before
            )
            others.append(row)
            continue
        plans.append((row, step, kernel, policy, before[0], before[1]))
    fired: list[Escalated] = []
    if plans:
        claimed = _claim([(row, step.level, old, old_check) for row, step, _, _, old, old_check in plans])
        if claimed != len(plans):
            raise _Contended
        ComplaintEvent.objects.bulk_create([_event(row, step, now) for row, step, *_ in plans])
        _announce([plan[:4] for plan in plans], now)
        fired.extend(Escalated(row.pk, step.level) for row, step, *_ in plans)
    for row in others:
        fired.extend(stage_escalate(stage_id=row.pk, now=now, kernels=kernels, row=row, policies=policies))
    return fired


def _digest_add(levels: list[tuple[ComplaintStage, EscalationStep, str, str]], now: datetime) -> None:
    """Queue each fired ``(row, step, label, note)`` for the next digest of each of its recipients
    (the same people a single message would reach), with one insert, inside the escalation's
    transaction."""
    from kuaixiang.notify.services import role_recipients_many

    recipients = role_recipients_many([(row.complaint, list(step.notify_roles)) for row, step, _, _ in levels])
    DigestItem.objects.bulk_create(
        DigestItem(
            recipient=user,
            complaint=row.complaint,
            stage=row,
            level=step.level,
            label=label[:200],
            note=note[:200],
            created_at=now,
        )
        for (row, step, label, note), users in zip(levels, recipients, strict=True)
        for user in users
    )


DIGEST_LINES = 50


def digests_flush(*, now: datetime, limit: int = 5000) -> int:
    """Send each person one message listing their unsent digest items (at most ``limit``
    items per call); return the number of messages. Items are claimed with ``SKIP LOCKED``
    (PostgreSQL) and marked sent in the same transaction as the messages, so an item is in
    exactly one message even with several workers flushing at once."""
    from kuaixiang.notify.services import notifications_send

    with transaction.atomic():
        items = list(
            DigestItem.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(sent_at__isnull=True)
            .select_related("recipient", "complaint")
            .order_by("recipient_id", "id")[:limit]
        )
        if not items:
            return 0
        by_user: dict[int, list[DigestItem]] = {}
        for item in items:
            by_user.setdefault(item.recipient_id, []).append(item)
        for mine in by_user.values():
            complaints = {i.complaint_id for i in mine}
            lines = [f"{i.complaint.number}：{i.label}；{i.note}" for i in mine[:DIGEST_LINES]]
            if len(mine) > DIGEST_LINES:
                lines.append(f"……另有 {len(mine) - DIGEST_LINES} 条，见督办看板")
            notifications_send(
                users=[mine[0].recipient],
                subject=f"督办汇总：{len(complaints)} 张工单新增督办",
                body="\n".join(lines),
                link="/supervision/",
            )
        DigestItem.objects.filter(pk__in=[i.pk for i in items]).update(sent_at=now)
    return len(by_user)


def escalations_due(*, now: datetime, limit: int = 500) -> list[int]:
    """Ids of stages whose next escalation check is due; reads only the partial index."""
    return list(
        ComplaintStage.objects.filter(next_check_at__lte=now)
        .order_by("next_check_at")
        .values_list("pk", flat=True)[:limit]
    )


COMMIT_BATCH = 100


def _escalate_alone(stage_id: int, now: datetime, kernels: Kernels, policies) -> list[Escalated]:
    """Escalate one stage (read afresh) in its own savepoint; on failure log it and push it forward."""
    try:
        with transaction.atomic():
            return stage_escalate(stage_id=stage_id, now=now, kernels=kernels, policies=policies)
    except Exception:  # noqa: BLE001 — one bad row must not stop the sweep; push it forward
        log.exception("SLA escalation of stage %s failed", stage_id)
        ComplaintStage.objects.filter(pk=stage_id, next_check_at__lte=now).update(
            next_check_at=now + timedelta(minutes=15)
        )
        return []


def escalations_sweep(*, now: datetime, limit: int = 500) -> list[Escalated]:
    """Escalate every due stage (at most ``limit``), then send the digests of digest-mode
    policies (one message per person); cost grows with the number due only."""
    with batch_job():  # receivers of stage_escalated read their configuration once per sweep
        return _sweep(now=now, limit=limit)


def _sweep(*, now: datetime, limit: int) -> list[Escalated]:
    fired: list[Escalated] = []
    kernels = Kernels()
    ids = escalations_due(now=now, limit=limit)
    policies = selectors.policy_table() if ids else {}
    rows: dict[int, ComplaintStage] = {}
    for start in range(0, len(ids), 500):
        chunk = ComplaintStage.objects.select_related(
            "complaint__department", "complaint__intake_department", "target__calendar"
        ).filter(pk__in=ids[start : start + 500])
        rows.update((r.pk, r) for r in chunk)
    # One commit per batch, not per level: each commit waits for the WAL to reach the disk.
    # A batch first runs without per-stage savepoints; if any stage raises, the batch is
    # rolled back and replayed with a savepoint per stage (a failing stage rolls back alone
    # and is pushed forward). A claim stays a compare-and-set: a second worker blocks on a
    # row this batch claimed until it commits, then finds the level taken. Workers take rows
    # in the same order.
    for start in range(0, len(ids), COMMIT_BATCH):
        batch = [rows[i] for i in ids[start : start + COMMIT_BATCH] if i in rows]
        with transaction.atomic():
            try:
                with transaction.atomic():
                    done = _escalate_batch(batch, now, kernels, policies)
            except Exception:  # noqa: BLE001 — _Contended or a failing stage: replayed stage by stage
                done = [e for row in batch for e in _escalate_alone(row.pk, now, kernels, policies)]
            fired.extend(done)
    digests_flush(now=now)
    return fired
