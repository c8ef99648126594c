"""Reads of SLA policies and stages."""

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Exists, Max, Min, OuterRef, Prefetch

from kuaixiang.errors import InvalidInput
from kuaixiang.org.models import Department
from kuaixiang.org.scope import scope_for
from kuaixiang.sla.calendars import DEFAULT_CALENDAR, calendar_get
from kuaixiang.sla.models import ComplaintStage, EscalationStep, SlaPolicy, SlaTarget, Stage
from kuaixiang.sla.worktime import CLOCK_UNITS, CalendarYearUnknown, Unit

_cache: tuple[tuple, dict[int, SlaPolicy]] | None = None
_lock = threading.Lock()


def policy_table() -> dict[int, SlaPolicy]:
    """Every policy with its targets and ladder, cached per process; one small query checks
    that the cache is current (count, newest id, newest ``updated_at``)."""
    global _cache
    # Raw SQL: this runs on every registration and timed transition, and the ORM's aggregate
    # costs ten times the query itself.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*), MAX(id), MAX(updated_at) FROM {SlaPolicy._meta.db_table}")  # noqa: S608
        key = tuple(cursor.fetchone())
    cached = _cache
    if cached is not None and cached[0] == key:
        return cached[1]
    table = {
        p.pk: p
        for p in SlaPolicy.objects.select_related("category").prefetch_related(
            Prefetch("targets", queryset=SlaTarget.objects.select_related("calendar")),
            Prefetch("ladder", queryset=EscalationStep.objects.order_by("level")),
        )
    }
    with _lock:
        _cache = (key, table)
    return table


def policies_forget() -> None:
    global _cache
    with _lock:
        _cache = None


def policies_in_force(at: datetime, *, table: dict[int, SlaPolicy] | None = None) -> list[SlaPolicy]:
    """Active policy versions in force at ``at``, with targets and ladder, best priority first."""
    found = [
        p
        for p in (policy_table() if table is None else table).values()
        if p.active and p.effective_from <= at and (p.effective_to is None or at < p.effective_to)
    ]
    return sorted(found, key=lambda p: (-p.priority, p.pk))


def policy_with_rules(policy_id: int) -> SlaPolicy:
    policy = policy_table().get(policy_id)
    if policy is None:
        raise SlaPolicy.DoesNotExist(policy_id)
    return policy


def _specificity(policy: SlaPolicy) -> tuple[int, int]:
    criteria = sum(
        bool(x)
        for x in (
            policy.channels,
            policy.severities,
            policy.intents,
            policy.difficulties,
            policy.flags,
            policy.category_id,
            policy.branch_id,
        )
    )
    depth = policy.category.level if policy.category_id else 0
    return criteria, depth


def policy_match(
    policies: list[SlaPolicy],
    *,
    channel: str,
    severity: str,
    category_path: str,
    department_path: str,
    intent: str = "",
    difficulty: str = "",
    flags: frozenset[str] = frozenset(),
) -> SlaPolicy | None:
    """The best policy among ``policies`` for a complaint's attributes, or None.

    Order: higher ``priority``, then more criteria set, then a deeper category, then the
    older row. ``category_path`` is the complaint category's materialised path ("" if none),
    ``department_path`` the intake department's ("/1/4/9/"): a branch matches its subtree.
    A policy listing intents or difficulties never matches a complaint without one; one
    listing ``flags`` matches only when all of them are among the complaint's ``flags``.
    """
    best = None
    best_key = None
    for policy in policies:
        if policy.channels and channel not in policy.channels:
            continue
        if policy.severities and severity not in policy.severities:
            continue
        if policy.intents and intent not in policy.intents:
            continue
        if policy.difficulties and difficulty not in policy.difficulties:
            continue
        if policy.flags and not set(policy.flags) <= flags:
            continue
        if policy.branch_id and f"/{policy.branch_id}/" not in department_path:
            continue
        if policy.category_id and not (category_path and category_path.startswith(policy.category.path)):
            continue
        key = (policy.priority, *_specificity(policy), -policy.pk)
        if best_key is None or key > best_key:
            best, best_key = policy, key
    return best


def stages_for_complaint(complaint_id: int) -> list[ComplaintStage]:
    return list(
        ComplaintStage.objects.filter(complaint_id=complaint_id)
        .select_related("target__calendar")
        .order_by("started_at", "id")
    )


def stage_clock(row: ComplaintStage, now: datetime) -> tuple[str, timedelta | None]:
    """(state, time left) of a stage for display: state is done, paused, unknown, overdue,
    warn or ok; time left is working time for working-time targets (negative once overdue)."""
    if row.completed_at:
        return ("overdue" if row.breached else "done"), None
    if row.paused_at:
        return "paused", None
    if row.due_at is None:
        return "unknown", None
    state = "overdue" if now > row.due_at else "warn" if row.warn_at and now >= row.warn_at else "ok"
    target = row.target
    if target is None or Unit(target.unit) in CLOCK_UNITS:
        return state, row.due_at - now
    try:
        kernel = calendar_get(target.calendar.code if target.calendar_id else DEFAULT_CALENDAR)
        return state, kernel.elapsed(now, row.due_at)
    except CalendarYearUnknown:
        return state, None


# ---------------------------------------------------------------- supervision board (督办看板)

BOARD_STATES = ("overdue", "warning")
BOARD_STATE_LABELS = {"overdue": "已超时", "warning": "即将超时"}
BOARD_ROWS = 200
EXPORT_ROWS = 10_000


@dataclass(frozen=True)
class BoardFilters:
    """A slice of the board: state ``overdue``/``warning`` ("" both), unit, department, level."""

    state: str = ""
    branch: int | None = None
    department: int | None = None
    level: int | None = None


@dataclass
class Flagged:
    """One complaint with a running, unpaused stage past its warning point."""

    complaint_id: int
    department_id: int
    branch_id: int
    level: int
    first_due: datetime
    state: str


@dataclass
class Board:
    now: datetime
    filters: BoardFilters
    totals: dict[str, int]
    branches: list[dict]
    departments: list[dict]
    levels: list[dict]
    flagged: list[Flagged] = field(default_factory=list)

    def selected(self) -> list[Flagged]:
        """The flagged complaints in the filtered slice, the earliest deadline first."""
        f = self.filters
        return [
            x
            for x in self.flagged
            if (not f.state or x.state == f.state)
            and (f.branch is None or x.branch_id == f.branch)
            and (f.department is None or x.department_id == f.department)
            and (f.level is None or x.level == f.level)
        ]


def _units(departments: dict[int, dict]) -> dict[int, int]:
    """Department id -> id of its unit (the nearest branch or HQ at or above it)."""
    units: dict[int, int] = {}
    for pk, row in departments.items():
        ids = [int(x) for x in row["path"].strip("/").split("/") if x]
        unit = ids[0] if ids else pk
        for candidate in reversed(ids):
            if departments.get(candidate, {}).get("level") in (Department.Level.BRANCH, Department.Level.HQ):
                unit = candidate
                break
        units[pk] = unit
    return units


def _tally(items: list[Flagged], key) -> dict:
    counts: dict = {}
    for item in items:
        row = counts.setdefault(key(item), {"overdue": 0, "warning": 0})
        row[item.state] += 1
    return counts


def supervision_board(user, *, now: datetime, filters: BoardFilters | None = None) -> Board:
    """Overdue and soon-due complaints in ``user``'s data scope, counted by unit, department
    and escalation level (two queries). A complaint counts once: ``overdue`` when one of its
    running, unpaused stages is past ``due_at``, else ``warning`` (past ``warn_at``); its
    department is the handling one (else the intake one), its level the highest fired.
    Counts of the three groupings ignore ``filters``; :meth:`Board.selected` applies them."""
    filters = filters or BoardFilters()
    scope = scope_for(user)
    rows = (
        ComplaintStage.objects.filter(
            scope.complaint_filter("complaint__"),
            completed_at__isnull=True,
            paused_at__isnull=True,
            warn_at__lte=now,
        )
        .values("complaint_id", "complaint__department_id", "complaint__intake_department_id")
        .annotate(level=Max("escalation_level"), first_due=Min("due_at"))
        .order_by()
    )
    departments = {d["id"]: d for d in Department.objects.values("id", "name", "path", "level")}
    units = _units(departments)
    flagged = []
    for row in rows:
        department = row["complaint__department_id"] or row["complaint__intake_department_id"]
        flagged.append(
            Flagged(
                complaint_id=row["complaint_id"],
                department_id=department,
                branch_id=units.get(department, department),
                level=row["level"],
                first_due=row["first_due"],
                state="overdue" if row["first_due"] <= now else "warning",
            )
        )
    flagged.sort(key=lambda x: (x.first_due, x.complaint_id))

    def listing(counts: dict, name) -> list[dict]:
        out = [{"id": k, "name": name(k), **v, "total": v["overdue"] + v["warning"]} for k, v in counts.items()]
        return sorted(out, key=lambda r: (-r["overdue"], -r["total"], str(r["name"])))

    def dept_name(pk: int) -> str:
        return departments.get(pk, {}).get("name", str(pk))

    by_department = listing(_tally(flagged, lambda x: x.department_id), dept_name)
    for row in by_department:
        row["branch_id"] = units.get(row["id"], row["id"])
        row["branch_name"] = dept_name(row["branch_id"])
    levels = _tally(flagged, lambda x: x.level)
    totals = {state: sum(1 for x in flagged if x.state == state) for state in BOARD_STATES}
    totals["total"] = len(flagged)
    return Board(
        now=now,
        filters=filters,
        totals=totals,
        branches=listing(_tally(flagged, lambda x: x.branch_id), dept_name),
        departments=by_department,
        levels=[
            {"level": level, **levels[level], "total": levels[level]["overdue"] + levels[level]["warning"]}
            for level in sorted(levels)
        ],
        flagged=flagged,
    )


def supervision_rows(board: Board, *, limit: int | None = BOARD_ROWS) -> list[dict]:
    """The complaints of the board's filtered slice with their most urgent stage (three queries)."""
    from kuaixiang.complaints.models import Complaint

    selected = board.selected()
    chosen = selected if limit is None else selected[:limit]
    ids = [x.complaint_id for x in chosen]
    complaints = Complaint.objects.select_related("department", "intake_department", "assignee", "category").in_bulk(
        ids
    )
    stages: dict[int, ComplaintStage] = {}
    for stage in (
        ComplaintStage.objects.filter(
            complaint_id__in=ids, completed_at__isnull=True, paused_at__isnull=True, warn_at__lte=board.now
        )
        .select_related("target__calendar")
        .order_by("due_at", "id")
    ):
        stages.setdefault(stage.complaint_id, stage)
    kernels: dict[str, object] = {}
    out = []
    for item in chosen:
        complaint, stage = complaints.get(item.complaint_id), stages.get(item.complaint_id)
        if complaint is None or stage is None:
            continue
        out.append(
            {
                "id": complaint.pk,
                "number": complaint.number,
                "summary": (complaint.subject or complaint.description)[:60],
                "status": str(complaint.get_status_display()),
                "severity": str(complaint.get_severity_display()),
                "category": complaint.category.name if complaint.category_id else "",
                "department": (complaint.department or complaint.intake_department).name,
                "assignee": complaint.assignee.get_full_name() or complaint.assignee.username
                if complaint.assignee_id
                else "",
                "stage": str(Stage(stage.stage).label),
                "due_at": stage.due_at,
                "left": _time_left(stage, board.now, kernels),
                "state": item.state,
                "level": item.level,
            }
        )
    return out


def _time_left(row: ComplaintStage, now: datetime, kernels: dict) -> timedelta:
    """Working time left (negative: overdue) for working-time targets, else clock time."""
    target = row.target
    if target is None or Unit(target.unit) in CLOCK_UNITS:
        return row.due_at - now
    code = target.calendar.code if target.calendar_id else DEFAULT_CALENDAR
    try:
        if code not in kernels:
            kernels[code] = calendar_get(code)
        kernel = kernels[code]
        if now <= row.due_at:
            return kernel.elapsed(now, row.due_at)
        return -kernel.elapsed(row.due_at, now)
    except CalendarYearUnknown:
        return row.due_at - now


# ---------------------------------------------------------------- queue: stage state of complaints

SLA_STATES = ("overdue", "warning", "on_time")


def complaints_by_sla_state(qs, state: str, *, now: datetime):
    """Narrow a complaint queryset to one deadline state: ``overdue`` (the earliest running
    deadline has passed), ``warning`` (not overdue, but a running unpaused stage is past its
    warning point) or ``on_time`` (timed, neither). Closed and untimed complaints match none."""
    if state not in SLA_STATES:
        raise InvalidInput("invalid_filter", "时限状态应为 overdue、warning 或 on_time", {"sla": state[:50]})
    qs = qs.filter(closed_at__isnull=True, due_at__isnull=False)
    if state == "overdue":
        return qs.filter(due_at__lt=now)
    warned = Exists(
        ComplaintStage.objects.filter(
            complaint_id=OuterRef("pk"), completed_at__isnull=True, paused_at__isnull=True, warn_at__lte=now
        )
    )
    qs = qs.filter(due_at__gte=now)
    return qs.filter(warned) if state == "warning" else qs.exclude(warned)


def queue_clocks(complaint_ids: list[int], *, now: datetime) -> dict[int, tuple[str, timedelta]]:
    """For each complaint, (state, time left) of its most urgent running, unpaused stage:
    state ``overdue`` / ``warn`` / ``ok``; time left is working time for working-time targets
    (negative once overdue). One query for the whole page; untimed complaints are absent."""
    rows = (
        ComplaintStage.objects.filter(
            complaint_id__in=complaint_ids, completed_at__isnull=True, paused_at__isnull=True, due_at__isnull=False
        )
        .select_related("target__calendar")
        .order_by("complaint_id", "due_at", "id")
    )
    kernels: dict[str, object] = {}
    out: dict[int, tuple[str, timedelta]] = {}
    for row in rows:
        if row.complaint_id in out:
            continue
        state = "overdue" if now > row.due_at else "warn" if row.warn_at and now >= row.warn_at else "ok"
        out[row.complaint_id] = (state, _time_left(row, now, kernels))
    return out
