"""Replay a stream of complaints through the normal intake path into the sandbox organisation.

:func:`replay_rows` is the service behind ``manage.py replay`` and drills::

    result = replay_rows(rows, rulepack="telecom", keep=False, on_warning=print_row)

``rows`` are mappings with ``received_at`` (ISO 8601; local Asia/Shanghai when it has no offset),
``channel`` (a channel code such as ``weibo`` or its Chinese label such as ``微博``), ``category``
(a name or a path ``A/B/C``; created in the category tree as it first appears), ``text`` and
optionally ``phone`` and ``line`` (the source line number for messages). The sandbox is emptied
first unless ``keep``; the rule pack's ``alerts`` rules are loaded as the sandbox rules; the clock
is set to each row's time and the baseline (surge) rules run once per replayed minute; every
warning raised or risen calls ``on_warning(WarningRow)``. Rows
with a bad time, an unknown channel or other invalid input are skipped and listed in
``ReplayResult.skipped``. Notifications reach only the sandbox staff's in-app inboxes.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction

from kuaixiang import clock
from kuaixiang.alerts import sandbox
from kuaixiang.alerts.models import WarningRule
from kuaixiang.alerts.signals import warning_raised
from kuaixiang.complaints.intake import parse_complaint_input
from kuaixiang.complaints.models import Channel
from kuaixiang.errors import DomainError, InvalidInput

# Rows registered together with --instant, each at its own time: one stretch costs a fixed number
# of queries whatever its length, so a sparse stream (a row every few minutes) replays as fast as a
# dense one.
STRETCH = 200


@dataclass(frozen=True)
class WarningRow:
    raised_at: datetime
    rule: str
    scope: str
    level: int
    count: int
    warning_id: int

    def csv(self) -> list[str]:
        return [
            self.raised_at.astimezone(clock.SHANGHAI).isoformat(),
            self.rule,
            self.scope,
            str(self.level),
            str(self.count),
        ]


@dataclass
class ReplayResult:
    rows: int = 0
    registered: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[WarningRow] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.registered / self.seconds if self.seconds else 0.0


_CHANNELS = {c.value: c.value for c in Channel} | {str(c.label): c.value for c in Channel}


def parse_time(value: str) -> datetime:
    """An ISO 8601 instant; naive values are Asia/Shanghai. Raise InvalidInput when malformed."""
    try:
        at = datetime.fromisoformat((value or "").strip())
    except ValueError:
        raise InvalidInput("bad_time", f"时间格式错误：{value!r}") from None
    return at if at.tzinfo else at.replace(tzinfo=clock.SHANGHAI)


def parse_channel(value: str) -> str:
    channel = _CHANNELS.get((value or "").strip())
    if channel is None:
        raise InvalidInput("unknown_channel", f"未知渠道：{value!r}")
    return channel


class CategoryMap:
    """Category paths to ids, creating missing nodes (code ``replay-<hash>``) on first sight."""

    def __init__(self) -> None:
        self._ids: dict[str, int | None] = {}

    def resolve(self, value: str) -> int | None:
        from kuaixiang.triage.models import MAX_CATEGORY_DEPTH, Category

        value = (value or "").strip()
        if not value:
            return None
        if value in self._ids:
            return self._ids[value]
        names = [n.strip() for n in value.split("/") if n.strip()]
        if len(names) > MAX_CATEGORY_DEPTH:
            raise InvalidInput("category_too_deep", f"分类最多五级：{value}")
        node = None
        if len(names) == 1:
            node = Category.objects.filter(name=names[0]).order_by("-level", "pk").first()
        if node is None:
            parent = None
            for depth, name in enumerate(names, start=1):
                found = Category.objects.filter(parent=parent, name=name).first()
                if found is None:
                    digest = hashlib.sha1("/".join(names[:depth]).encode(), usedforsecurity=False).hexdigest()[:16]
                    found = Category.objects.filter(code=f"replay-{digest}").first() or Category.objects.create(
                        code=f"replay-{digest}", name=name[:100], parent=parent
                    )
                parent = found
            node = parent
        self._ids[value] = node.pk
        return node.pk


@transaction.atomic
def sandbox_rules_load(rulepack: str) -> int:
    """Load the pack's ``alerts`` rules as the sandbox rules; deactivate sandbox rules it lacks."""
    from kuaixiang.alerts.rulepack import alerts_load, alerts_parse
    from kuaixiang.rulepacks import _merge, _read, pack_files, yaml_parse

    files = pack_files(rulepack)
    document = _merge([(yaml_parse(_read(f), str(f)), str(f)) for f in files])
    specs = alerts_parse(document, str(rulepack))
    alerts_load(specs, str(rulepack), sandbox=True, pack=str(rulepack))
    WarningRule.objects.filter(sandbox=True).exclude(code__in=[s.code for s in specs]).update(active=False)
    return len(specs)


def _prepare(row: Mapping, categories: CategoryMap):
    at = parse_time(row.get("received_at", ""))
    channel = parse_channel(row.get("channel", ""))
    phone = (row.get("phone") or "").strip()
    data = parse_complaint_input(
        {
            "channel": channel,
            "received_at": at.isoformat(),
            "description": (row.get("text") or "").strip(),
            "complainant_phone": phone or None,
            "anonymous": not phone,
            "category_id": categories.resolve(row.get("category", "")),
        }
    )
    return at, data


class _Cut(Exception):  # noqa: N818 - control flow inside the replay, never raised out of it
    """A warning was raised before the end of the stretch in flight: redo the stretch up to it."""

    def __init__(self, at: datetime) -> None:
        self.at = at


def replay_rows(
    rows: Iterable[Mapping],
    *,
    rulepack: str = "telecom",
    keep: bool = False,
    on_warning: Callable[[WarningRow], None] | None = None,
    on_skip: Callable[[int, str], None] | None = None,
    on_progress: Callable[[int, float], None] | None = None,
    speed: float | None = None,
    stretch: int = STRETCH,
) -> ReplayResult:
    """Replay ``rows`` (see the module docstring) and return what happened. ``speed`` N paces the
    replay at N times the rows' own pace; without it rows go as fast as possible, registered in
    stretches of up to ``stretch`` rows (see :data:`STRETCH`)."""
    from kuaixiang import batch
    from kuaixiang.alerts.baseline import PastSeries, baseline_rules

    result = ReplayResult()
    if not keep:
        sandbox.sandbox_empty()
    agent = sandbox.sandbox_agent()
    sandbox_rules_load(rulepack)
    # Only the sandbox's surge rules: the real ones are the live minute job's, at the real time.
    surge_rules = baseline_rules(sandbox=True)
    memo = PastSeries()
    categories = CategoryMap()
    raised: list[WarningRow] = []  # by the rows in flight
    instant: list[datetime | None] = [None]  # the replay's clock while it registers: the last row
    pending: list = []  # rows read, not yet committed: (line, time, input)
    size = stretch
    since_cut = gap = 0  # rows registered since the last cut, and between the last two

    def collect(sender, warning, previous_level, now, **kwargs):
        if warning.sandbox:
            w = warning
            raised.append(WarningRow(now, w.rule.code, w.scope_label, w.level, w.count, w.pk))

    def skip(line: int, message: str) -> None:
        result.skipped.append((line, message))
        if on_skip:
            on_skip(line, message)

    def early() -> datetime | None:
        """When a warning of the rows in flight came before the last of them."""
        times = [w.raised_at for w in raised if w.raised_at < instant[0]]
        return min(times) if times else None

    def register(part: list, *, cut: bool, following: tuple | None) -> None:
        """Register ``part`` and evaluate its minutes (the last row's minute only when the
        ``following`` row does not continue it) under a savepoint; with ``cut``, undo it all and
        raise :class:`_Cut` as soon as a warning comes before its last row."""
        raised.clear()
        instant[0] = part[-1][1]
        minute_open = following is not None and _minute(following[1]) == _minute(instant[0])
        with transaction.atomic():
            registered, failed = _register(
                part, agent=agent, rules=surge_rules, memo=memo, minute_open=minute_open, early=early if cut else None
            )
        result.registered += registered
        for line, message in failed:
            skip(line, message)
        for row in raised:
            result.warnings.append(row)
            if on_warning:
                on_warning(row)

    def flush(*, final: bool) -> None:
        """Register the pending rows a stretch at a time. A stretch in which a warning comes before
        the last row is undone and redone up to that warning, so everything after it (grouped
        notices, the next rows) sees it as a live system would; work the warning leaves for after
        the commit (an incident it opens) makes the transaction commit there, at its time. After
        the first cut, stretches are sized to the rows between warnings (:func:`_stretch_size`).
        Unless ``final``, the row after a stretch is known (it says whether the stretch's last
        minute goes on)."""
        nonlocal memo, size, since_cut, gap
        while pending and (final or len(pending) > size):
            with transaction.atomic():
                _commit_without_waiting()
                while pending and (final or len(pending) > size):
                    attempt = pending[:size]
                    try:
                        register(attempt, cut=True, following=pending[size] if len(pending) > size else None)
                        since_cut += len(attempt)
                        del pending[: len(attempt)]
                    except _Cut as cut:
                        memo = PastSeries()  # it may remember the undone rows
                        part = [p for p in attempt if p[1] <= cut.at]
                        register(part, cut=False, following=pending[len(part)] if len(pending) > len(part) else None)
                        gap, since_cut = since_cut + len(part), 0
                        del pending[: len(part)]
                    if gap:
                        size = _stretch_size(max(gap, since_cut), stretch)
                    if transaction.get_connection().run_on_commit:
                        break
            instant[0] = None

    started = time.perf_counter()
    warning_raised.connect(collect, dispatch_uid="alerts_replay_collect")
    # Rules, departments and categories are read once for the whole replay.
    with batch.batch_job(), clock.driven(lambda: instant[0]):
        try:
            first_at = None
            last_progress = started
            for index, row in enumerate(rows, start=1):
                line = int(row.get("line") or index + 1)
                result.rows += 1
                try:
                    at, data = _prepare(row, categories)
                except DomainError as exc:
                    skip(line, exc.message)
                    continue
                if pending and at < pending[-1][1]:
                    flush(final=True)  # a row out of order: the clock goes back, as it would row by row
                if speed:
                    first_at = first_at or (at, time.perf_counter())
                    due = first_at[1] + (at - first_at[0]).total_seconds() / speed
                    pause = due - time.perf_counter()
                    if pause > 0:
                        time.sleep(min(pause, 60))
                pending.append((line, at, data))
                if speed or len(pending) > size:
                    flush(final=bool(speed))
                if on_progress and time.perf_counter() - last_progress >= 1:
                    last_progress = time.perf_counter()
                    on_progress(result.registered, time.perf_counter() - started)
            flush(final=True)
        finally:
            warning_raised.disconnect(dispatch_uid="alerts_replay_collect")
            result.seconds = time.perf_counter() - started
    return result


def _commit_without_waiting() -> None:
    """Let the current transaction commit without waiting for its WAL to reach the disk
    (PostgreSQL's ``synchronous_commit = off``, for this transaction only). A crash can then lose
    the last replayed stretches but never leaves them half written, and the sandbox is rebuilt by
    the next replay; waiting for the disk cost a replay over a tenth of its time."""
    connection = transaction.get_connection()
    if connection.vendor == "postgresql" and connection.savepoint_ids == []:  # the outermost block only
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _stretch_size(gap: int, longest: int) -> int:
    """Rows to register at once when a warning comes every ``gap`` rows: a cut undoes half a
    stretch on average and a stretch has a fixed cost of about three rows' work, so the cost per
    row, 3/size + size/(2·gap), is least at size √(6·gap)."""
    return max(4, min(longest, math.isqrt(6 * gap)))


def _minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


def _register(part: list, *, agent, rules: list, memo, minute_open: bool, early=None) -> tuple[int, list]:
    """Register the rows of ``part`` each at its own time, then run the surge rules at the last row
    of each minute (but the last minute when ``minute_open``) on the series as it stood then
    (``memo.ahead``: what the later rows added). Return how many were registered and the (line,
    message) of rows refused; raise :class:`_Cut` as soon as ``early()`` names a time."""
    from kuaixiang.alerts.baseline import baselines_evaluate
    from kuaixiang.alerts.counting import hourly_contributions
    from kuaixiang.complaints.services import complaint_register_bulk

    results = complaint_register_bulk(actor=agent, items=[p[2] for p in part], at_receipt=True)
    failed = [
        (line, (r.error or {}).get("message", "无法登记"))
        for (line, _, _), r in zip(part, results, strict=True)
        if r.complaint is None
    ]
    first = early() if early else None  # a count warning before the last row: cut there, after
    added = hourly_contributions([r.complaint for r in results if r.complaint is not None])
    by_row = iter(added)
    memo.written()
    memo.ahead = defaultdict(Counter)
    for keys in added:
        for flag, key, hour in keys:
            memo.ahead[hour][(flag, key)] += 1
    for i, ((_, at, _), item) in enumerate(zip(part, results, strict=True)):
        if item.complaint is not None:
            for flag, key, hour in next(by_row):
                memo.ahead[hour][(flag, key)] -= 1
        last = i + 1 == len(part)
        # The minute job of a live system: surge rules see the stream as it arrives.
        if (last and not minute_open) or (not last and _minute(part[i + 1][1]) != _minute(at)):
            if first and at >= first:
                raise _Cut(first)  # the minutes evaluated before it raised nothing earlier
            baselines_evaluate(now=at, rules=rules, memo=memo)
            first = early() if early else None
    if first:
        raise _Cut(first)
    memo.ahead = {}
    memo.states_save()
    return len(added), failed
