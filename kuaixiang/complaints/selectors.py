"""Reads of complaints, always through the caller's data scope."""

import base64
import binascii
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db.models import Count, Q, QuerySet

from kuaixiang import clock
from kuaixiang.complaints.lifecycle import OPEN, State
from kuaixiang.complaints.models import Complaint, ComplaintEvent
from kuaixiang.errors import InvalidInput, NotFound
from kuaixiang.org.scope import scope_for
from kuaixiang.sla.selectors import complaints_by_sla_state

_NUMBER = re.compile(r"TS\d{14,}", re.IGNORECASE)
_PHONE = re.compile(r"[\d\-+ ]{7,20}")
LIST_FIELDS = (
    "id",
    "number",
    "status",
    "channel",
    "severity",
    "intent",
    "request_type",
    "validity",
    "flags",
    "repeat_of_id",
    "duplicate_of_id",
    "complainant_name",
    "complainant_phone",
    "anonymous",
    "subject",
    "description",
    "received_at",
    "due_at",
    "category__id",
    "category__full_name",
    "department__id",
    "department__name",
    "assignee__id",
    "assignee__username",
    "assignee__first_name",
    "assignee__last_name",
)


def complaints_visible(user) -> QuerySet[Complaint]:
    return Complaint.objects.filter(scope_for(user).complaint_filter())


@dataclass
class ComplaintFilters:
    status: list[str] = field(default_factory=list)
    category_id: int | None = None
    department_id: int | None = None
    channel: str | None = None
    severity: str | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None
    q: str | None = None
    overdue: bool | None = None
    assignee_id: int | None = None
    intake_department_id: int | None = None
    sla_state: str | None = None  # overdue / warning / on_time (kuaixiang.sla.selectors.complaints_by_sla_state)
    sort: str = "received"  # received: newest first; due: earliest deadline first (timed open complaints only)


def _instant(value: datetime, field: str) -> datetime:
    """Return ``value`` as UTC (naive means Shanghai time); InvalidInput if UTC cannot hold it."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=clock.SHANGHAI)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00+08:00 falls before year 1 in UTC
        raise InvalidInput("datetime_out_of_range", "时间超出可处理的范围", {"field": field}) from None


def _search(qs: QuerySet[Complaint], text: str) -> QuerySet[Complaint]:
    text = text.replace("\x00", "").strip()  # PostgreSQL cannot take NUL in a query parameter
    if _NUMBER.fullmatch(text):
        return qs.filter(number=text.upper())
    if _PHONE.fullmatch(text):
        from kuaixiang.complaints.phone import normalise_phone

        try:
            return qs.filter(complainant_phone=normalise_phone(text))
        except InvalidInput:
            pass
    return qs.filter(Q(description__icontains=text) | Q(subject__icontains=text) | Q(complainant_name=text))


def complaints_filtered(user, filters: ComplaintFilters) -> QuerySet[Complaint]:
    qs = complaints_visible(user)
    if filters.status:
        qs = qs.filter(status__in=filters.status)
    if filters.category_id:
        from kuaixiang.triage.models import Category

        path = Category.objects.filter(pk=filters.category_id).values_list("path", flat=True).first()
        qs = qs.filter(category__path__startswith=path) if path else qs.none()
    for name in ("department_id", "channel", "severity", "assignee_id", "intake_department_id"):
        value = getattr(filters, name)
        if value:
            qs = qs.filter(**{name: value})
    if filters.received_from:
        qs = qs.filter(received_at__gte=_instant(filters.received_from, "received_from"))
    if filters.received_to:
        qs = qs.filter(received_at__lt=_instant(filters.received_to, "received_to"))
    if filters.overdue is not None:
        overdue = Q(due_at__lt=clock.now(), closed_at__isnull=True)
        qs = qs.filter(overdue) if filters.overdue else qs.exclude(overdue)
    if filters.sla_state:
        qs = complaints_by_sla_state(qs, filters.sla_state, now=clock.now())
    if filters.q:
        qs = _search(qs, filters.q)
    return qs


def encode_cursor(complaint_received_at: datetime, complaint_id: int) -> str:
    raw = f"{complaint_received_at.isoformat()}|{complaint_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _, pk = raw.partition("|")
        instant, pk_value = _instant(datetime.fromisoformat(at), "cursor"), int(pk)
    except (ValueError, binascii.Error, UnicodeDecodeError):  # InvalidInput is a ValueError too
        raise InvalidInput("invalid_cursor", "分页游标无效") from None
    if not 0 < pk_value < 2**63:
        raise InvalidInput("invalid_cursor", "分页游标无效")
    return instant, pk_value


@dataclass
class Page:
    items: list[dict]
    next_cursor: str | None


def complaints_page(user, filters: ComplaintFilters, *, cursor: str | None = None, limit: int = 50) -> Page:
    """One page, newest received first, keyset-paginated: cost does not grow with the offset."""
    qs = complaints_filtered(user, filters)
    if filters.sort == "due":
        return _page_by_due(qs, cursor, limit)
    if cursor:
        at, pk = decode_cursor(cursor)
        # The redundant ``received_at <= at`` is what an index can seek to; the OR alone is
        # only a filter, so the scan would start at the newest row on every page.
        qs = qs.filter(Q(received_at__lte=at), Q(received_at__lt=at) | Q(received_at=at, id__lt=pk))
    rows = list(qs.order_by("-received_at", "-id").values(*LIST_FIELDS)[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1]["received_at"], rows[-1]["id"]) if more else None
    return Page(rows, next_cursor)


def _page_by_due(qs: QuerySet[Complaint], cursor: str | None, limit: int) -> Page:
    """Open timed complaints, earliest deadline first, keyset-paginated on (due_at, id)."""
    qs = qs.filter(due_at__isnull=False, closed_at__isnull=True)
    if cursor:
        at, pk = decode_cursor(cursor)
        qs = qs.filter(Q(due_at__gte=at), Q(due_at__gt=at) | Q(due_at=at, id__gt=pk))
    rows = list(qs.order_by("due_at", "id").values(*LIST_FIELDS)[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, encode_cursor(rows[-1]["due_at"], rows[-1]["id"]) if more else None)


def complaint_detail(user, complaint_id: int, *, after_action: bool = False) -> Complaint:
    """The complaint with its relations, or NotFound outside the user's scope.

    ``after_action``: the user has just changed it; show the result even when the change took it out
    of their scope (a send-back or a transfer to another department) — they saw it a moment ago.
    """
    base = Complaint.objects.all() if after_action else complaints_visible(user)
    complaint = (
        base.select_related("category", "department", "intake_department", "registered_by", "assignee", "merged_into")
        .filter(pk=complaint_id)
        .first()
    )
    if complaint is None:
        raise NotFound("complaint_not_found", "工单不存在或不在您的数据范围内", {"id": complaint_id})
    return complaint


def complaint_timeline(complaint: Complaint) -> list[ComplaintEvent]:
    return list(ComplaintEvent.objects.filter(complaint=complaint).select_related("actor").order_by("at", "id"))


def queue_counts(user) -> dict[str, int]:
    """Counts per status in the user's scope, plus 'mine' (assigned to the user, open)."""
    qs = complaints_visible(user)
    counts = dict(qs.values_list("status").annotate(n=Count("id")).order_by())
    counts["mine"] = qs.filter(assignee=user, status__in=list(OPEN)).count()
    counts["open"] = sum(n for s, n in counts.items() if s in {x.value for x in OPEN})
    counts["overdue"] = qs.filter(due_at__lt=clock.now(), closed_at__isnull=True).count()
    return counts


OPEN_STATES = [s.value for s in OPEN]
STATE_VALUES = [s.value for s in State]
