"""Warnings: the only writers. Raise/update (``warning_observe``), notify with grouping, inhibition
and silences (``warnings_notify``), and the lifecycle: acknowledge, assign, link, resolve."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest

from kuaixiang import clock
from kuaixiang.alerts.models import (
    ClusterMember,
    GroupBy,
    Silence,
    Warning,
    WarningComplaint,
    WarningEvent,
    WarningRule,
)
from kuaixiang.alerts.signals import warning_raised
from kuaixiang.errors import Conflict, Forbidden, InvalidInput, NotFound
from kuaixiang.org.roles import Role

BACKFILL_LINKS = 50  # complaints of the window linked when a warning is first raised
MANAGE_ROLES = frozenset({Role.MANAGER, Role.LEADER, Role.ADMIN, Role.HEAD, Role.LEAD, Role.PR})
LEVEL_NAMES = {1: "一级（黄）", 2: "二级（橙）", 3: "三级（红）"}


def _event(warning: Warning, kind: str, now: datetime, *, actor=None, **payload) -> WarningEvent:
    return WarningEvent.objects.create(
        warning=warning, at=now, actor=actor, kind=kind, level=warning.level, payload=payload
    )


def _link(warning: Warning, complaints, now: datetime, *, actor=None, manual=False) -> None:
    WarningComplaint.objects.bulk_create(
        [
            WarningComplaint(
                warning=warning,
                complaint_id=c if isinstance(c, int) else c.pk,
                manual=manual,
                linked_at=now,
                linked_by=actor,
            )
            for c in complaints
        ],
        ignore_conflicts=True,
    )


def _backfill(warning: Warning, rule: WarningRule, now: datetime) -> None:
    """Link complaints of the window counted before the warning existed (new-complaint measure)."""
    from kuaixiang.complaints.models import Complaint
    from kuaixiang.triage.models import Category

    if warning.cluster_id:
        members = ClusterMember.objects.filter(cluster_id=warning.cluster_id).order_by("-at")
        _link(warning, list(members.values_list("complaint_id", flat=True)[:BACKFILL_LINKS]), now)
        return
    if rule.measure != "new" or rule.group_by == GroupBy.CLUSTER:
        return
    qs = Complaint.objects.filter(created_at__gte=warning.window_start, created_at__lte=now)
    if warning.category_id:
        path = Category.objects.filter(pk=warning.category_id).values_list("path", flat=True).first() or "\0"
        qs = qs.filter(category__path__startswith=path)
    elif rule.category_id:
        qs = qs.filter(category__path__startswith=rule.category.path)
    if warning.channel:
        qs = qs.filter(channel=warning.channel)
    elif rule.channel:
        qs = qs.filter(channel=rule.channel)
    ids = list(qs.order_by("-created_at").values_list("pk", flat=True)[:BACKFILL_LINKS])
    _link(warning, ids, now)


def _find(rule: WarningRule, scope_key: str, window) -> Warning | None:
    if window.rolling:
        # One warning per episode: a rolling window that still overlaps the last one continues it.
        return (
            Warning.objects.filter(rule=rule, scope_key=scope_key, window_end__gte=window.start)
            .order_by("-window_end")
            .first()
        )
    return Warning.objects.filter(rule=rule, scope_key=scope_key, window_start=window.start).first()


def warning_observe(
    *,
    rule: WarningRule,
    scope_key: str,
    scope_label: str,
    window,
    level: int,
    count: int,
    figure: float,
    now: datetime,
    complaints=(),
    category_id: int | None = None,
    channel: str = "",
    cluster_id: int | None = None,
    expected: float | None = None,
) -> tuple[Warning, int] | None:
    """Create or update the one warning of (rule, scope key, window) at ``level``; return
    (warning, previous level) when it was created or rose (0 = new), else None. Sends
    ``warning_raised`` for a new or risen warning. Call inside the counting transaction."""
    warning = _find(rule, scope_key, window)
    if warning is None:
        try:
            with transaction.atomic():
                warning = Warning.objects.create(
                    rule=rule,
                    sandbox=rule.sandbox,
                    scope_key=scope_key,
                    scope_label=scope_label[:300],
                    window_start=window.start,
                    window_end=window.end,
                    level=level,
                    count=count,
                    figure=figure,
                    expected=expected,
                    category_id=category_id,
                    channel=channel,
                    cluster_id=cluster_id,
                    raised_at=now,
                    updated_at=now,
                )
        except IntegrityError:
            warning = None  # a concurrent intake created it first: update that one below
        else:
            _event(warning, "raised", now, count=count, figure=round(figure, 3))
            _link(warning, complaints, now)
            _backfill(warning, rule, now)
            warning_raised.send(sender=Warning, warning=warning, previous_level=0, now=now)
            return warning, 0
        warning = Warning.objects.get(rule=rule, scope_key=scope_key, window_start=window.start)
    updates = {
        "count": Greatest(F("count"), count),
        "updated_at": now,
        "figure": figure,
        "scope_label": scope_label[:300],
    }
    if window.rolling and window.end > warning.window_end:
        updates["window_end"] = window.end
    Warning.objects.filter(pk=warning.pk).update(**updates)
    _link(warning, complaints, now)
    previous = warning.level
    # Compare-and-set: of two concurrent risers only one records the rise.
    rose = level > previous and Warning.objects.filter(pk=warning.pk, level=previous).update(level=level) == 1
    warning.refresh_from_db()
    if not rose:
        return None
    if warning.status == Warning.Status.RESOLVED:
        Warning.objects.filter(pk=warning.pk).update(status=Warning.Status.OPEN, resolved_at=None)
        warning.status, warning.resolved_at = Warning.Status.OPEN, None
    _event(warning, "rose", now, previous=previous, count=warning.count, figure=round(figure, 3))
    warning_raised.send(sender=Warning, warning=warning, previous_level=previous, now=now)
    return warning, previous


# ---------------------------------------------------------------- notification and hygiene


def _silence_for(warning: Warning, now: datetime) -> Silence | None:
    from kuaixiang.triage.models import Category

    candidates = Silence.objects.filter(starts_at__lte=now, ends_at__gt=now, max_level__gte=warning.level).filter(
        Q(rule__isnull=True) | Q(rule_id=warning.rule_id)
    )
    for silence in candidates.select_related("category"):
        if silence.channel and silence.channel != (warning.channel or warning.rule.channel):
            continue
        if silence.scope_contains and silence.scope_contains not in warning.scope_label:
            continue
        if silence.category_id:
            path = (
                Category.objects.filter(pk=warning.category_id or warning.rule.category_id)
                .values_list("path", flat=True)
                .first()
            )
            if not path or not path.startswith(silence.category.path):
                continue
        return silence
    return None


def _inhibitor(warning: Warning) -> Warning | None:
    """An open level-3 warning on the same scope silences lower levels (like Alertmanager inhibition)."""
    if warning.level >= 3:
        return None
    return (
        Warning.objects.filter(sandbox=warning.sandbox, scope_key=warning.scope_key, level=3)
        .exclude(status=Warning.Status.RESOLVED)
        .exclude(pk=warning.pk)
        .first()
    )


def _departments(target: dict, warning: Warning):
    from kuaixiang.alerts.sandbox import sandbox_root
    from kuaixiang.org.models import Department

    root = sandbox_root()
    base = Department.objects.filter(active=True)
    if warning.sandbox:
        base = base.filter(path__startswith=root.path) if root else base.none()
    elif root:
        base = base.exclude(path__startswith=root.path)
    if target.get("department") == "responsible":
        return list(base.filter(pk=warning.department_id)) if warning.department_id else []
    if target.get("department"):
        return list(base.filter(code=target["department"]))
    if warning.rule.branch_id and not warning.sandbox:
        scoped = base.filter(path__startswith=warning.rule.branch.path)
        if target.get("function"):
            scoped = scoped.filter(function=target["function"])
        found = list(scoped.filter(staff__role=target["role"]).distinct())
        if found:
            return found
    if target.get("function"):
        base = base.filter(function=target["function"])
    return list(base.filter(staff__role=target["role"], staff__user__is_active=True).distinct())


def warning_recipients(warning: Warning, level: int, now: datetime) -> list:
    """Users to notify for ``warning`` at ``level``: each target's role holders in its departments,
    through the duty roster (``kuaixiang.org.duty.duty_resolve``) when the level says ``duty``."""
    from django.contrib.auth import get_user_model

    from kuaixiang.org.duty import duty_resolve
    from kuaixiang.org.models import Staff

    spec = next((x for x in warning.rule.levels if int(x["level"]) == level), None)
    if spec is None:
        return []
    users: dict[int, object] = {}
    for target in spec.get("notify") or []:
        departments = _departments(target, warning)
        if spec.get("duty"):
            for dept in departments:
                for user in duty_resolve(role=target["role"], department=dept, at=now):
                    users[user.pk] = user
        elif departments:
            ids = Staff.objects.filter(department__in=departments, role=target["role"]).values_list(
                "user_id", flat=True
            )
            for user in get_user_model().objects.filter(pk__in=ids, is_active=True):
                users[user.pk] = user
    return list(users.values())


def _message(warnings: list[Warning]) -> tuple[str, str, str]:
    if len(warnings) == 1:
        w = warnings[0]
        subject = f"【预警{LEVEL_NAMES.get(w.level, w.level)}】{w.rule.name}：{w.scope_label}"
        link = f"/alerts/warnings/{w.pk}/"
    else:
        top = max(w.level for w in warnings)
        subject = f"【预警{LEVEL_NAMES.get(top, top)}】{len(warnings)} 条相关预警"
        link = "/alerts/warnings/"
    lines = []
    for w in warnings:
        local = w.window_start.astimezone(clock.SHANGHAI)
        lines.append(
            f"{LEVEL_NAMES.get(w.level, w.level)} {w.rule.name}：{w.scope_label}，{w.count} 件"
            f"（窗口起 {local:%m-%d %H:%M}）"
        )
        if w.cluster_id and w.cluster:
            lines.append("  关键词：" + " ".join(w.cluster.top_terms[:8]))
    return subject, "\n".join(lines), link


def warnings_notify(touched: list[tuple[Warning, int]], *, now: datetime) -> int:
    """Notify about warnings just raised or risen, once per evaluation: silenced and inhibited
    ones are recorded and skipped; the others are grouped so each person gets one message for
    all the warnings that reach them. Return the number of messages (groups) sent."""
    from kuaixiang.notify.models import WebhookEndpoint
    from kuaixiang.notify.services import notifications_send

    if not touched:
        return 0
    by_user: dict[int, list[Warning]] = defaultdict(list)
    users: dict[int, object] = {}
    sent_to: dict[int, list[int]] = defaultdict(list)
    for warning, _previous in touched:
        if warning.notified_level >= warning.level:
            continue
        silence = _silence_for(warning, now)
        if silence is not None:
            Warning.objects.filter(pk=warning.pk).update(silenced=True)
            _event(warning, "silenced", now, silence=silence.pk, comment=silence.comment)
            continue
        inhibitor = _inhibitor(warning)
        if inhibitor is not None:
            _event(warning, "inhibited", now, by=inhibitor.pk)
            continue
        for user in warning_recipients(warning, warning.level, now):
            users[user.pk] = user
            by_user[user.pk].append(warning)
        Warning.objects.filter(pk=warning.pk).update(notified_level=warning.level)
    groups: dict[tuple[int, ...], list[int]] = defaultdict(list)
    for user_id, ws in by_user.items():
        groups[tuple(sorted({w.pk for w in ws}))].append(user_id)
    warnings_by_id = {w.pk: w for w, _ in touched}
    for ids, user_ids in groups.items():
        ws = [warnings_by_id[i] for i in ids]
        subject, body, link = _message(ws)
        sandbox = any(w.sandbox for w in ws)
        # Group bots hear warnings only when their action list names "warning"; never for the sandbox.
        hooks = (
            []
            if sandbox
            else [h for h in WebhookEndpoint.objects.filter(active=True) if "warning" in (h.actions or [])]
        )
        notifications_send(
            users=[users[u] for u in user_ids], subject=subject, body=body, link=link, email=not sandbox, webhooks=hooks
        )
        for w in ws:
            sent_to[w.pk].extend(user_ids)
    for warning_id, user_ids in sent_to.items():
        w = warnings_by_id[warning_id]
        group = [i for ids in groups for i in ids if warning_id in ids]
        _event(w, "notified", now, users=sorted(set(user_ids)), group=sorted(set(group)))
    return len(groups)


# ---------------------------------------------------------------- lifecycle


def _staff_role(user) -> str | None:
    from kuaixiang.org.scope import scope_for

    return scope_for(user).role


def _for_update(warning_id: int, actor) -> Warning:
    from kuaixiang.alerts.selectors import warnings_visible

    if _staff_role(actor) not in MANAGE_ROLES:
        raise Forbidden("warning_forbidden", "无权处理预警")
    warning = warnings_visible(actor).select_for_update().filter(pk=warning_id).first()
    if warning is None:
        raise NotFound("warning_not_found", "预警不存在")
    return warning


@transaction.atomic
def warning_acknowledge(*, warning_id: int, actor, note: str = "") -> Warning:
    """Acknowledge an open warning (确认): the level, nature and handling are being decided."""
    warning = _for_update(warning_id, actor)
    if warning.status != Warning.Status.OPEN:
        raise Conflict("warning_not_open", "只有待确认的预警可以确认", {"status": warning.status})
    now = clock.now()
    warning.status, warning.acknowledged_at, warning.updated_at = Warning.Status.ACKNOWLEDGED, now, now
    warning.save(update_fields=["status", "acknowledged_at", "updated_at"])
    _event(warning, "acknowledged", now, actor=actor, note=note[:2000])
    return warning


@transaction.atomic
def warning_assign(*, warning_id: int, actor, department_id: int, note: str = "") -> Warning:
    """Assign the warning to a responsible department (责任部门) and tell its head."""
    from kuaixiang.notify.services import notifications_send
    from kuaixiang.org.duty import duty_resolve
    from kuaixiang.org.models import Department

    warning = _for_update(warning_id, actor)
    if warning.status == Warning.Status.RESOLVED:
        raise Conflict("warning_resolved", "预警已解除")
    department = Department.objects.filter(pk=department_id, active=True).first()
    if department is None:
        raise InvalidInput("unknown_department", "部门不存在或已停用", {"department_id": department_id})
    now = clock.now()
    before = warning.department_id
    warning.department, warning.status, warning.assigned_at, warning.updated_at = (
        department,
        Warning.Status.ASSIGNED,
        now,
        now,
    )
    if not warning.acknowledged_at:
        warning.acknowledged_at = now
    warning.save(update_fields=["department", "status", "assigned_at", "acknowledged_at", "updated_at"])
    _event(
        warning,
        "assigned",
        now,
        actor=actor,
        department=department.pk,
        name=department.name,
        before=before,
        note=note[:2000],
    )
    heads = duty_resolve(role=Role.HEAD, department=department, at=now)
    if heads:
        subject, body, link = _message([warning])
        notifications_send(
            users=heads,
            subject="【预警指派】" + subject,
            body=body + (f"\n{note}" if note else ""),
            link=link,
            email=not warning.sandbox,
        )
    return warning


@transaction.atomic
def warning_link(*, warning_id: int, actor, complaint_ids: list[int]) -> Warning:
    """Link complaints (by id, within the actor's data scope) to the warning."""
    from kuaixiang.complaints.models import Complaint
    from kuaixiang.org.scope import scope_for

    warning = _for_update(warning_id, actor)
    ids = sorted(set(complaint_ids))
    if not ids or len(ids) > 500 or not all(1 <= i <= 2**62 for i in ids):
        raise InvalidInput("complaint_ids_invalid", "请提供 1–500 个工单编号", {"count": len(ids)})
    found = set(Complaint.objects.filter(scope_for(actor).complaint_filter(), pk__in=ids).values_list("pk", flat=True))
    missing = [i for i in ids if i not in found]
    if missing:
        raise InvalidInput("unknown_complaints", "工单不存在或无权查看", {"missing": missing[:50]})
    now = clock.now()
    existing = set(
        WarningComplaint.objects.filter(warning=warning, complaint_id__in=ids).values_list("complaint_id", flat=True)
    )
    _link(warning, ids, now, actor=actor, manual=True)
    warning.updated_at = now
    warning.save(update_fields=["updated_at"])
    _event(warning, "linked", now, actor=actor, complaints=[i for i in ids if i not in existing])
    return warning


@transaction.atomic
def warning_resolve(*, warning_id: int, actor, cause: str) -> Warning:
    """Resolve the warning with its cause (原因分析); a later rise in level reopens it."""
    cause = (cause or "").strip()
    if not cause:
        raise InvalidInput("cause_required", "解除预警须填写原因")
    if len(cause) > 5000:
        raise InvalidInput("cause_too_long", "原因最多 5000 字")
    warning = _for_update(warning_id, actor)
    if warning.status == Warning.Status.RESOLVED:
        raise Conflict("warning_resolved", "预警已解除")
    now = clock.now()
    warning.status, warning.resolved_at, warning.cause, warning.updated_at = Warning.Status.RESOLVED, now, cause, now
    warning.save(update_fields=["status", "resolved_at", "cause", "updated_at"])
    _event(warning, "resolved", now, actor=actor, cause=cause)
    return warning
