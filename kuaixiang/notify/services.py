"""Queue notifications in the outbox (inside the caller's transaction) and deliver them."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import translation

from kuaixiang import clock
from kuaixiang.notify import routing
from kuaixiang.notify.channels import deliver_email, deliver_webhook
from kuaixiang.notify.models import Notification, WebhookEndpoint
from kuaixiang.org.models import Department, Shift, Staff

BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)


def _recipients(complaint, action: str, actor) -> list:
    """Users to tell about ``action`` on ``complaint``, without the actor himself."""
    wanted = Q(pk__in=[])
    roles = routing.HANDLING_DEPARTMENT.get(action)
    if roles and complaint.department_id:
        wanted |= Q(department_id=complaint.department_id, role__in=roles)
    roles = routing.INTAKE_DEPARTMENT.get(action)
    if roles:
        wanted |= Q(department_id=complaint.intake_department_id, role__in=roles)
    user_ids = set(Staff.objects.filter(wanted, user__is_active=True).values_list("user_id", flat=True))
    if action in routing.TO_ASSIGNEE and complaint.assignee_id:
        user_ids.add(complaint.assignee_id)
    if action not in ("register",):
        user_ids.add(complaint.registered_by_id)
    user_ids.discard(getattr(actor, "pk", None))
    from django.contrib.auth import get_user_model

    return list(get_user_model().objects.filter(pk__in=user_ids, is_active=True).only("id", "email"))


def _message(complaint, action_label, actor, note: str) -> tuple[str, str]:
    """Subject and body in the site language (messages outlive the request that caused them)."""
    with translation.override(settings.LANGUAGE_CODE):
        return _render(complaint, str(action_label), actor, note)


def _render(complaint, action_label: str, actor, note: str) -> tuple[str, str]:
    who = (actor.get_full_name() or actor.username) if actor else "系统"
    subject = f"【{complaint.number}】{action_label}"
    lines = [f"工单 {complaint.number} {action_label}（{who}）", f"状态：{complaint.get_status_display()}"]
    if complaint.department_id:
        lines.append(f"处理部门：{complaint.department}")
    if note:
        lines.append(note)
    lines.append(f"内容：{complaint.description[:200]}")
    return subject, "\n".join(lines)


def notifications_queue(*, complaint, action: str, action_label, actor, note: str = "") -> list[Notification]:
    """Write outbox rows for one complaint action; deliveries start after commit."""
    now = clock.now()
    subject, body = _message(complaint, action_label, actor, note)
    hooks = [
        hook
        for hook in WebhookEndpoint.objects.filter(active=True).filter(
            Q(department__isnull=True) | Q(department_id=complaint.department_id)
        )
        if not hook.actions or action in hook.actions
    ]
    rows = _rows(
        _recipients(complaint, action, actor),
        subject=subject,
        body=body,
        link=f"/complaints/{complaint.pk}/",
        complaint=complaint,
        email=action in routing.EMAIL_ACTIONS,
        webhooks=hooks,
        now=now,
    )
    return _write_outbox(rows)


def _role_recipients(complaint, roles: list[str]) -> list:
    """Active users behind escalation roles: ``assignee``; ``handler``/``head`` of the handling
    department; ``lead``/``manager`` of the intake department; ``leader`` of the intake unit
    (or, when it has none, of HQ). For ``head``/``lead``/``manager``/``leader``, when the duty
    roster has people on shift now for that role there (unit subtree for leaders; HQ's duty
    leader when the unit has no leader), only they are notified instead of everyone with the
    role (``kuaixiang.org.duty.duty_on_shift``). One complaint of :func:`role_recipients_many`."""
    return role_recipients_many([(complaint, roles)])[0]


def _units(department_ids: set[int]) -> dict[int, Department]:
    """``Department.unit()`` of each id, with one query for the departments and their ancestors."""
    paths = dict(Department.objects.filter(pk__in=department_ids).values_list("pk", "path"))
    wanted = set(department_ids) | {int(p) for path in paths.values() for p in path.strip("/").split("/") if p}
    by_id = {d.pk: d for d in Department.objects.filter(pk__in=wanted)}
    units: dict[int, Department] = {}
    for pk in department_ids:
        node = by_id[pk]
        while node.level not in (Department.Level.BRANCH, Department.Level.HQ) and node.parent_id:
            node = by_id.get(node.parent_id) or node.parent  # the path is maintained by save(); read if stale
        units[pk] = node
    return units


def _leaders(complaints: list, now) -> dict[int, set[int]]:
    """User ids of the ``leader`` recipients per intake department id (see :func:`_role_recipients`):
    the leaders on shift in the intake unit's subtree, else its leaders, else HQ's leaders on
    shift, else HQ's leaders ("HQ": departments at depth 0 or 1 — which includes the branch nodes
    themselves). Three queries for any number."""
    units = _units({c.intake_department_id for c in complaints})
    columns = ("user_id", "department__path", "department__parent_id", "department__parent__parent_id")
    on_shift = list(
        Shift.objects.filter(role="leader", starts_at__lte=now, ends_at__gt=now, user__is_active=True).values_list(
            *columns
        )
    )
    staff = list(Staff.objects.filter(role="leader", user__is_active=True).values_list(*columns))

    def in_unit(rows, unit_path: str) -> set[int]:
        return {user_id for user_id, path, *_ in rows if path.startswith(unit_path)}

    def at_hq(rows) -> set[int]:
        return {user_id for user_id, _, parent, grandparent in rows if parent is None or grandparent is None}

    hq_on_shift, hq_staff = at_hq(on_shift), at_hq(staff)
    found: dict[int, set[int]] = {}
    for department_id, unit in units.items():
        found[department_id] = in_unit(on_shift, unit.path) or in_unit(staff, unit.path) or hq_on_shift or hq_staff
    return found


def role_recipients_many(items) -> list[list]:
    """:func:`_role_recipients` for many ``(complaint, roles)`` pairs at once, in their order,
    with the same semantics (duty roster included) and a fixed number of queries — at most
    seven, whatever the number of complaints: shifts and staff for the department roles, the
    intake departments and their ancestors (two), leaders on shift, leaders, and the users.
    ``now`` is ``clock.now()``."""
    from django.contrib.auth import get_user_model

    items = [(complaint, set(roles)) for complaint, roles in items]
    now = clock.now()
    pairs: list[list[tuple[str, int]]] = []  # per item: the (role, department) pairs it asks for
    for complaint, roles in items:
        mine = [
            (role, department_id)
            for role, department_id in (
                ("handler", complaint.department_id),
                ("head", complaint.department_id),
                ("lead", complaint.intake_department_id),
                ("manager", complaint.intake_department_id),
            )
            if role in roles and department_id
        ]
        pairs.append(mine)
    wanted = {pair for mine in pairs for pair in mine}
    by_pair: dict[tuple[str, int], set[int]] = {pair: set() for pair in wanted}
    rostered = {(role, department) for role, department in wanted if role != "handler"}
    if rostered:
        shifts = Shift.objects.filter(
            role__in={r for r, _ in rostered},
            department_id__in={d for _, d in rostered},
            starts_at__lte=now,
            ends_at__gt=now,
            user__is_active=True,
        ).values_list("role", "department_id", "user_id")
        for role, department_id, user_id in shifts:
            if (role, department_id) in rostered:
                by_pair[(role, department_id)].add(user_id)
    fallback = {pair for pair in wanted if not by_pair[pair]}  # nobody on shift: everyone with the role
    if fallback:
        staff = Staff.objects.filter(
            role__in={r for r, _ in fallback}, department_id__in={d for _, d in fallback}, user__is_active=True
        ).values_list("role", "department_id", "user_id")
        for role, department_id, user_id in staff:
            if (role, department_id) in fallback:
                by_pair[(role, department_id)].add(user_id)
    leaders = (
        _leaders([c for c, roles in items if "leader" in roles], now) if any("leader" in r for _, r in items) else {}
    )
    wanted_ids: list[set[int]] = []
    for (complaint, roles), mine in zip(items, pairs, strict=True):
        user_ids = set().union(*(by_pair[pair] for pair in mine))
        if "assignee" in roles and complaint.assignee_id:
            user_ids.add(complaint.assignee_id)
        if "leader" in roles:
            user_ids |= leaders[complaint.intake_department_id]
        wanted_ids.append(user_ids)
    every = set().union(*wanted_ids)
    users = {u.pk: u for u in get_user_model().objects.filter(pk__in=every, is_active=True).only("id", "email")}
    return [[users[pk] for pk in sorted(ids) if pk in users] for ids in wanted_ids]


def notifications_escalate(*, complaint, roles: list[str], label: str, note: str = "") -> list[Notification]:
    """Outbox rows (inbox plus e-mail) telling the people behind ``roles`` about an escalation
    (督办) of ``complaint``; call inside the escalating transaction."""
    return notifications_escalate_many(items=[(complaint, roles, label, note)])


def notifications_escalate_many(*, items) -> list[Notification]:
    """:func:`notifications_escalate` for many ``(complaint, roles, label, note)`` at once: the
    recipients resolved together (:func:`role_recipients_many`) and one outbox insert."""
    now = clock.now()
    items = list(items)
    recipients = role_recipients_many([(complaint, roles) for complaint, roles, _, _ in items])
    rows: list[Notification] = []
    for (complaint, _, label, note), users in zip(items, recipients, strict=True):
        subject, body = _message(complaint, label, None, note)
        link = f"/complaints/{complaint.pk}/"
        rows += _rows(
            users, subject=subject, body=body, link=link, complaint=complaint, email=True, webhooks=(), now=now
        )
    return _write_outbox(rows)


def notifications_send(
    *, users, subject: str, body: str, link: str = "", email: bool = True, webhooks=(), complaint=None
) -> list[Notification]:
    """Outbox rows for a message not tied to one lifecycle action (warnings, incidents, remedies):
    an inbox row per active user, an e-mail to those with an address when ``email``, and one row
    per given ``WebhookEndpoint``. Call inside the writing transaction; delivery starts on commit.
    Pass ``email=False`` and no webhooks for sandbox (drill) messages: they stay in-app."""
    users = {u.pk: u for u in users if u.is_active}.values()
    rows = _rows(
        users,
        subject=subject[:200],
        body=body,
        link=link,
        complaint=complaint,
        email=email,
        webhooks=webhooks,
        now=clock.now(),
    )
    return _write_outbox(rows)


def _rows(users, *, subject: str, body: str, link: str, complaint, email: bool, webhooks, now) -> list[Notification]:
    """One message as outbox rows: inbox (delivered at once) per user, e-mail to users with an
    address when ``email``, one row per webhook."""
    common = {"subject": subject, "body": body, "link": link, "complaint": complaint}
    rows: list[Notification] = []
    for user in users:
        rows.append(
            Notification(
                channel=Notification.Channel.INBOX,
                recipient=user,
                status=Notification.Status.SENT,
                created_at=now,
                sent_at=now,
                **common,
            )
        )
        if email and user.email:
            rows.append(
                Notification(
                    channel=Notification.Channel.EMAIL,
                    recipient=user,
                    address=user.email,
                    created_at=now,
                    next_attempt_at=now,
                    **common,
                )
            )
    for hook in webhooks:
        rows.append(
            Notification(
                channel=Notification.Channel.WEBHOOK,
                webhook=hook,
                address=hook.url,
                created_at=now,
                next_attempt_at=now,
                **common,
            )
        )
    return rows


def _write_outbox(rows: list[Notification]) -> list[Notification]:
    """Insert outbox rows; deliveries of the pending ones start after the caller commits."""
    Notification.objects.bulk_create(rows)
    outbound = [str(n.pk) for n in rows if n.status == Notification.Status.PENDING]
    if outbound:
        # robust: a broker outage must not turn the committed action into an error; the rows
        # stay pending and drain_outbox picks them up.
        transaction.on_commit(lambda: _schedule(outbound), robust=True)
    return rows


def _schedule(ids: list[str]) -> None:
    from kuaixiang.notify.tasks import deliver_notifications

    deliver_notifications(ids)


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after ``attempts`` failures: 30 s, 60 s, 120 s … capped at 1 h."""
    # The exponent is bounded so a large KX_OUTBOX_MAX_ATTEMPTS cannot overflow timedelta.
    return min(BACKOFF_BASE * (2 ** min(max(attempts - 1, 0), 16)), BACKOFF_CAP)


def notification_deliver(*, notification_id) -> str | None:
    """Try one outbox message once; return its new status, or None if another worker holds it.

    The claim is a compare-and-set on (status, attempts), so two workers never send the same
    try; a receiver still drops repeats by the message id we send (at-least-once).
    """
    now = clock.now()
    row = Notification.objects.filter(pk=notification_id).select_related("webhook").first()
    if row is None or row.status not in (Notification.Status.PENDING, Notification.Status.SENDING):
        return None
    if row.next_attempt_at and row.next_attempt_at > now:
        return None
    claimed = Notification.objects.filter(pk=row.pk, status=row.status, attempts=row.attempts).update(
        status=Notification.Status.SENDING, attempts=row.attempts + 1, next_attempt_at=now + backoff(row.attempts + 1)
    )
    if claimed != 1:
        return None
    attempts = row.attempts + 1
    try:
        if row.channel == Notification.Channel.EMAIL:
            deliver_email(row)
        elif row.channel == Notification.Channel.WEBHOOK:
            deliver_webhook(row)
    except Exception as exc:  # noqa: BLE001 — any failure of the far side is recorded and retried
        final = attempts >= settings.KX_OUTBOX_MAX_ATTEMPTS
        Notification.objects.filter(pk=row.pk).update(
            status=Notification.Status.FAILED if final else Notification.Status.PENDING,
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
            next_attempt_at=None if final else now + backoff(attempts),
        )
        return Notification.Status.FAILED if final else Notification.Status.PENDING
    Notification.objects.filter(pk=row.pk).update(
        status=Notification.Status.SENT, sent_at=clock.now(), last_error="", next_attempt_at=None
    )
    return Notification.Status.SENT


def outbox_due_ids(limit: int = 500) -> list:
    """Outbox messages whose next try is due (including ones a dead worker left in 'sending')."""
    return list(
        Notification.objects.filter(
            status__in=[Notification.Status.PENDING, Notification.Status.SENDING], next_attempt_at__lte=clock.now()
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


def inbox_unread_count(user) -> int:
    return Notification.objects.filter(recipient=user, channel=Notification.Channel.INBOX, read_at__isnull=True).count()


def inbox_mark_read(*, user, notification_ids=None) -> int:
    qs = Notification.objects.filter(recipient=user, channel=Notification.Channel.INBOX, read_at__isnull=True)
    if notification_ids is not None:
        qs = qs.filter(pk__in=notification_ids)
    return qs.update(read_at=clock.now())
