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
import time
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

BATCH = 200  # rows of the same minute registered together with --instant


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


def replay_rows(
    rows: Iterable[Mapping],
    *,
    rulepack: str = "telecom",
    keep: bool = False,
    on_warning: Callable[[WarningRow], None] | None = None,
    on_skip: Callable[[int, str], None] | None = None,
    on_progress: Callable[[int, float], None] | None = None,
    speed: float | None = None,
) -> ReplayResult:
    """Replay ``rows`` (see the module docstring) and return what happened. ``speed`` N paces the
    replay at N times the rows' own pace (None: as fast as possible, rows of one minute registered
    in batches through ``complaint_register_bulk``)."""
    from kuaixiang import batch
    from kuaixiang.alerts.baseline import PastSeries, baseline_rules, baselines_evaluate
    from kuaixiang.complaints.services import complaint_register, complaint_register_bulk

    result = ReplayResult()
    if not keep:
        sandbox.sandbox_empty()
    agent = sandbox.sandbox_agent()
    sandbox_rules_load(rulepack)
    # Only the sandbox's surge rules: the real ones are the live minute job's, at the real time.
    surge_rules = baseline_rules(sandbox=True)
    past = PastSeries()  # each batch is registered and evaluated at its own time: see its contract
    categories = CategoryMap()

    def collect(sender, warning, previous_level, now, **kwargs):
        if not warning.sandbox:
            return
        row = WarningRow(now, warning.rule.code, warning.scope_label, warning.level, warning.count, warning.pk)
        result.warnings.append(row)
        if on_warning:
            on_warning(row)

    def skip(line: int, message: str) -> None:
        result.skipped.append((line, message))
        if on_skip:
            on_skip(line, message)

    started = time.perf_counter()
    warning_raised.connect(collect, dispatch_uid="alerts_replay_collect")
    # Rules, departments and categories are read once for the whole replay.
    with batch.batch_job():
        try:
            batch: list = []
            batch_minute = None
            first_at = None
            last_progress = started

            def flush() -> None:
                nonlocal batch
                if not batch:
                    return
                with clock.frozen(batch[-1][1]):
                    if len(batch) == 1:
                        complaint_register(actor=agent, data=batch[0][2])
                    else:
                        complaint_register_bulk(actor=agent, items=[b[2] for b in batch])
                    # The minute job of a live system: surge rules see the stream as it arrives.
                    baselines_evaluate(now=batch[-1][1], rules=surge_rules, memo=past)
                result.registered += len(batch)
                batch = []

            for index, row in enumerate(rows, start=1):
                line = int(row.get("line") or index + 1)
                result.rows += 1
                try:
                    at, data = _prepare(row, categories)
                except DomainError as exc:
                    skip(line, exc.message)
                    continue
                if speed:
                    first_at = first_at or (at, time.perf_counter())
                    due = first_at[1] + (at - first_at[0]).total_seconds() / speed
                    pause = due - time.perf_counter()
                    if pause > 0:
                        time.sleep(min(pause, 60))
                minute = at.replace(second=0, microsecond=0)
                if speed or minute != batch_minute or len(batch) >= BATCH:
                    flush()
                    batch_minute = minute
                batch.append((line, at, data))
                if speed:
                    flush()
                if on_progress and time.perf_counter() - last_progress >= 1:
                    last_progress = time.perf_counter()
                    on_progress(result.registered, time.perf_counter() - started)
            flush()
        finally:
            warning_raised.disconnect(dispatch_uid="alerts_replay_collect")
            result.seconds = time.perf_counter() - started
    return result
