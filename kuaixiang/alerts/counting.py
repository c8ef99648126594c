"""Count rules on intake and on escalation: counters by upsert, warnings in the same transaction.

``on_registered`` (receiver of ``complaints_registered``) adds every new complaint to the hourly
series and to the counter of each matching count rule with one ``INSERT … ON CONFLICT DO UPDATE
… RETURNING`` statement per batch, so the complaint that crosses a threshold raises the warning
in its own request and concurrent intakes never lose a count (the row lock serialises them on
PostgreSQL; SQLite has one writer). ``on_escalated`` (receiver of ``stage_escalated``) counts a
complaint once per window for rules measuring escalated complaints.

Inside a batch job (``kuaixiang.batch.batch_job``: a replay, an escalation sweep) the active
rules are read once and departments and categories are remembered by id, instead of being read
again for every registration or escalation.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db import IntegrityError, connection, transaction

from kuaixiang.alerts import services
from kuaixiang.alerts.models import (
    Condition,
    CounterMember,
    GroupBy,
    HourlyCount,
    Measure,
    WarningCounter,
    WarningRule,
)
from kuaixiang.alerts.sandbox import SANDBOX_CODE
from kuaixiang.alerts.windows import hour_floor, window_at
from kuaixiang.batch import batch_cache
from kuaixiang.complaints.models import Channel, Flag


@dataclass
class Scope:
    key: str
    label: str
    category_id: int | None = None
    channel: str = ""
    cluster_id: int | None = None


@dataclass
class Context:
    """What a batch of complaints needs from the database, read once per batch."""

    categories: dict[int, tuple[str, int, str]] = field(default_factory=dict)  # id -> (path, level, label)
    departments: dict[int, tuple[str, str]] = field(default_factory=dict)  # id -> (code, path)

    def sandbox(self, complaint) -> bool:
        code = self.departments.get(complaint.intake_department_id, ("", ""))[0]
        return code == SANDBOX_CODE or code.startswith(SANDBOX_CODE + "-")


def _cache() -> dict | None:
    cache = batch_cache("alerts")
    if cache is not None and not cache:
        cache.update(rules={}, departments={}, categories={})
    return cache


def categories_cached() -> dict[int, tuple[str, int, str]] | None:
    """Inside a batch job: the categories read so far, id -> (path, level, label)."""
    cache = _cache()
    return None if cache is None else cache["categories"]


def _context(complaints) -> Context:
    from kuaixiang.org.models import Department
    from kuaixiang.triage.models import Category

    cache = _cache()
    ctx = Context()
    if cache is not None:
        ctx.departments, ctx.categories = cache["departments"], cache["categories"]
    dept_ids = {c.intake_department_id for c in complaints} - ctx.departments.keys()
    if dept_ids:
        ctx.departments.update(
            (d, (code, path))
            for d, code, path in Department.objects.filter(pk__in=dept_ids).values_list("pk", "code", "path")
        )
    cat_ids = {c.category_id for c in complaints if c.category_id} - ctx.categories.keys()
    if not cat_ids:
        return ctx
    paths = dict(Category.objects.filter(pk__in=cat_ids).values_list("pk", "path"))
    ancestor_ids = {int(x) for p in paths.values() for x in p.strip("/").split("/") if x} - ctx.categories.keys()
    for pk, path, level, full_name in Category.objects.filter(pk__in=ancestor_ids).values_list(
        "pk", "path", "level", "full_name"
    ):
        ctx.categories[pk] = (path, level, full_name.replace(" / ", "/"))
    return ctx


def rule_scope(rule: WarningRule, complaint, ctx: Context, rule_paths: dict[int, str]) -> Scope | None:
    """The scope a complaint counts in under ``rule``, or None when the rule does not cover it."""
    if rule.channel and complaint.channel != rule.channel:
        return None
    cat = ctx.categories.get(complaint.category_id) if complaint.category_id else None
    if rule.category_id:
        if cat is None or not cat[0].startswith(rule_paths.get(rule.category_id, "\0")):
            return None
    if rule.branch_id:
        dept_path = ctx.departments.get(complaint.intake_department_id, ("", ""))[1]
        if not dept_path.startswith(rule_paths.get(-rule.branch_id, "\0")):
            return None
    if rule.measure == Measure.FLAGGED:
        flags = getattr(complaint, "flags", None) or []
        if (rule.flag and rule.flag not in flags) or not flags:
            return None
    if rule.measure == Measure.REPEAT and not getattr(complaint, "repeat_of_id", None):
        return None
    if rule.group_by == GroupBy.ALL:
        return Scope("all", rule_label(rule, ctx))
    if rule.group_by == GroupBy.CHANNEL:
        return Scope(f"chan:{complaint.channel}", str(Channel(complaint.channel).label), channel=complaint.channel)
    if rule.group_by == GroupBy.CATEGORY:
        if cat is None:
            return None
        node_id = complaint.category_id
        if rule.category_level:
            ids = [int(x) for x in cat[0].strip("/").split("/")]
            if len(ids) < rule.category_level:
                return None
            node_id = ids[rule.category_level - 1]
        node = ctx.categories[node_id]
        return Scope(f"cat:{node_id}", node[2], category_id=node_id)
    # A cluster rule covers the complaint; kuaixiang.alerts.clusters finds its cluster and key.
    return Scope("cluster", "")


def rule_label(rule: WarningRule, ctx: Context | None = None) -> str:
    """Words for a rule's whole scope (group_by all)."""
    parts = []
    if rule.category_id:
        parts.append(rule.category.full_name.replace(" / ", "/"))
    if rule.channel:
        parts.append(str(Channel(rule.channel).label))
    if rule.flag:
        parts.append(str(Flag(rule.flag).label) if rule.flag in Flag.values else rule.flag)
    return "，".join(parts) or "全部"


def _rule_paths(rules) -> dict[int, str]:
    """Category paths by id and branch paths by negative id, for the rules' scope filters."""
    from kuaixiang.org.models import Department
    from kuaixiang.triage.models import Category

    paths: dict[int, str] = {}
    cat_ids = {r.category_id for r in rules if r.category_id}
    if cat_ids:
        paths.update(Category.objects.filter(pk__in=cat_ids).values_list("pk", "path"))
    branch_ids = {r.branch_id for r in rules if r.branch_id}
    if branch_ids:
        paths.update({-pk: p for pk, p in Department.objects.filter(pk__in=branch_ids).values_list("pk", "path")})
    return paths


def _upsert(table: str, columns: tuple[str, ...], conflict: tuple[str, ...], rows: list[tuple], returning: bool):
    """INSERT rows, adding ``count`` to existing ones; return the (conflict…, count) rows when asked."""
    if not rows:
        return []
    ops = connection.ops
    quote = ops.quote_name
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    cols = ", ".join(quote(c) for c in columns)
    keys = ", ".join(quote(c) for c in conflict)
    values = ", ".join([one] * len(rows))
    update = f"{quote('count')} = {quote(table)}.{quote('count')} + excluded.{quote('count')}"
    # Only quoted model identifiers are interpolated; every value goes as a parameter.
    sql = f"INSERT INTO {quote(table)} ({cols}) VALUES {values} ON CONFLICT ({keys}) DO UPDATE SET {update}"  # noqa: S608
    if returning:
        sql += f" RETURNING {keys}, {quote('count')}"
    params: list = []
    for row in rows:
        params.extend(ops.adapt_datetimefield_value(v) if isinstance(v, datetime) else v for v in row)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if returning else []


def _instant(value) -> datetime:
    """A datetime column as returned by a raw query (SQLite: text in UTC), as an aware UTC instant."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def hourly_add(complaints, ctx: Context) -> None:
    """Add the complaints to the hourly series of their registration hour: ``all``,
    ``chan:<channel>`` and ``cat:<id>`` of every node on the category path."""
    counts: dict[tuple[bool, str, datetime], int] = defaultdict(int)
    for c in complaints:
        hour = hour_floor(c.created_at)
        for key in hourly_keys(c, ctx):
            counts[(ctx.sandbox(c), key, hour)] += 1
    rows = [(sandbox, key, hour, n) for (sandbox, key, hour), n in counts.items()]
    _upsert(
        HourlyCount._meta.db_table,
        ("sandbox", "scope_key", "hour", "count"),
        ("sandbox", "scope_key", "hour"),
        rows,
        False,
    )


def hourly_contributions(complaints) -> list[list[tuple[bool, str, datetime]]]:
    """For each complaint, the (sandbox, scope key, hour) series rows it added to."""
    ctx = _context(complaints)
    return [[(ctx.sandbox(c), key, hour_floor(c.created_at)) for key in hourly_keys(c, ctx)] for c in complaints]


def hourly_keys(complaint, ctx: Context) -> list[str]:
    """The hourly series a complaint counts in."""
    keys = ["all", f"chan:{complaint.channel}"]
    if complaint.category_id and complaint.category_id in ctx.categories:
        keys += [f"cat:{node}" for node in ctx.categories[complaint.category_id][0].strip("/").split("/")]
    return keys


def _active_rules(**filters) -> tuple[list[WarningRule], dict[int, str]]:
    """The active rules matching ``filters`` and their scope paths (see :func:`_rule_paths`)."""
    cache = _cache()
    key = tuple(sorted(filters.items()))
    if cache is not None and key in cache["rules"]:
        return cache["rules"][key]
    rules = list(WarningRule.objects.filter(active=True, **filters).select_related("category"))
    found = (rules, _rule_paths(rules))
    if cache is not None:
        cache["rules"][key] = found
    return found


def _bucket_counts(rule: WarningRule, key: str, windows: list) -> dict[datetime, int]:
    """The stored counter of each bucket the rolling ``windows`` span (one query)."""
    rows = WarningCounter.objects.filter(
        rule=rule,
        scope_key=key,
        bucket__gte=min(w.start for w in windows),
        bucket__lte=max(w.bucket for w in windows),
    ).values_list("bucket", "count")
    return dict(rows)


def count_and_warn(
    hits: dict[tuple[int, str], list[tuple[datetime, object]]], rules: dict[int, WarningRule], scopes: dict
) -> list:
    """Add ``hits`` ((rule id, scope key) -> (instant, complaint) in order of instant) to the
    counters; raise or update the warnings whose figures reach a level. Return the warnings
    touched (for grouping).

    Complaints of one batch count as if they had come one by one at their instants: each is
    counted in the window of its own instant, and a warning is observed at the complaint that
    crosses a level (raised at its instant, with the count then), when the count climbs back to
    a level, and at the last complaint of each window (the final count). One upsert for the
    batch, one read per rolling scope with a window of several buckets, and the warning writes.
    """
    windows = {
        (rid, key): [window_at(rules[rid].window_kind, rules[rid].window_size, at) for at, _ in items]
        for (rid, key), items in hits.items()
    }
    sizes: dict[tuple[int, str, datetime], int] = defaultdict(int)
    for (rid, key), spans in windows.items():
        for w in spans:
            sizes[(rid, key, w.bucket)] += 1
    returned = _upsert(
        WarningCounter._meta.db_table,
        ("rule_id", "scope_key", "bucket", "count"),
        ("rule_id", "scope_key", "bucket"),
        [(rid, key, bucket, n) for (rid, key, bucket), n in sizes.items()],
        True,
    )
    stored = {(rid, key, _instant(bucket)): n for rid, key, bucket, n in returned}
    touched = []
    for (rid, key), items in hits.items():
        rule, spans = rules[rid], windows[(rid, key)]
        several = spans[0].rolling and rule.window_size > 1
        buckets = _bucket_counts(rule, key, spans) if several else {}
        later = {w.bucket: sizes[(rid, key, w.bucket)] for w in spans}  # this batch's, not yet seen
        emitted = previous = 0
        linked: list = []

        def level_of(total: int, rule=rule) -> int:
            return rule.level_for(total) if total >= rule.min_count else 0

        for i, ((at, complaint), window) in enumerate(zip(items, spans, strict=True)):
            later[window.bucket] -= 1
            if several:
                total = sum(n for b, n in buckets.items() if window.start <= b <= window.bucket)
            else:
                total = stored[(rid, key, window.bucket)]
            total -= later[window.bucket]
            if i == 0 or (not window.rolling and spans[i - 1].start != window.start):
                emitted = previous = level_of(total - 1)  # where the window stood before this complaint
                linked = []  # a new window: the last one's complaints are not this warning's
            level = level_of(total)
            linked.append(complaint)
            last_of_window = i + 1 == len(items) or (not window.rolling and spans[i + 1].start != window.start)
            if level and (level > emitted or not previous or last_of_window):
                scope = scopes[(rid, key)]
                result = services.warning_observe(
                    rule=rule,
                    scope_key=key,
                    scope_label=scope.label,
                    window=window,
                    level=level,
                    count=total,
                    figure=total,
                    now=at,
                    complaints=linked,
                    category_id=scope.category_id,
                    channel=scope.channel,
                    cluster_id=scope.cluster_id,
                )
                if result is not None:
                    touched.append(result)
                emitted, linked = max(emitted, level), []
            previous = level
    return touched


def on_registered(sender, complaints, actor=None, now=None, **kwargs) -> None:
    """Receiver of ``complaints_registered``: hourly series, count rules, clusters, notifications."""
    from kuaixiang import clock
    from kuaixiang.alerts import clusters

    if not complaints:
        return
    now = now or clock.now()
    ctx = _context(complaints)
    hourly_add(complaints, ctx)
    rules, paths = _active_rules(condition=Condition.THRESHOLD)
    rules = [r for r in rules if r.measure != Measure.ESCALATED]
    hits: dict[tuple[int, str], list] = defaultdict(list)
    scopes: dict[tuple[int, str], Scope] = {}
    cluster_rules: dict[int, list[WarningRule]] = defaultdict(list)  # complaint id -> cluster rules covering it
    for c in complaints:
        sandbox = ctx.sandbox(c)
        for rule in rules:
            if rule.sandbox != sandbox:
                continue
            scope = rule_scope(rule, c, ctx, paths)
            if scope is None:
                continue
            if rule.group_by == GroupBy.CLUSTER:
                cluster_rules[c.pk].append(rule)
            else:
                hits[(rule.pk, scope.key)].append((c.created_at, c))
                scopes[(rule.pk, scope.key)] = scope
    touched = count_and_warn(hits, {r.pk: r for r in rules}, scopes) if hits else []
    touched += clusters.clusters_add(complaints, sandbox_of=ctx.sandbox, rules_for=cluster_rules)
    services.warnings_notify(touched, now=now)


def on_escalated(sender, stage=None, complaint=None, level=None, now=None, **kwargs) -> None:
    """Receiver of ``stage_escalated``: count the complaint once per window of each rule measuring
    escalated complaints (a complaint escalating through several levels or stages counts once)."""
    from kuaixiang import clock

    now = now or clock.now()
    rules, paths = _active_rules(measure=Measure.ESCALATED, condition=Condition.THRESHOLD)
    if not rules or complaint is None:
        return
    ctx = _context([complaint])
    sandbox = ctx.sandbox(complaint)
    hits: dict[tuple[int, str], list] = {}
    scopes: dict[tuple[int, str], Scope] = {}
    for rule in rules:
        if rule.sandbox != sandbox:
            continue
        scope = rule_scope(rule, complaint, ctx, paths)
        if scope is None:
            continue
        window = window_at(rule.window_kind, rule.window_size, now)
        try:
            with transaction.atomic():
                CounterMember.objects.create(
                    rule=rule, scope_key=scope.key, window_start=window.start, complaint=complaint
                )
        except IntegrityError:
            continue  # already counted in this window
        hits[(rule.pk, scope.key)] = [(now, complaint)]
        scopes[(rule.pk, scope.key)] = scope
    if hits:
        touched = count_and_warn(hits, {r.pk: r for r in rules}, scopes)
        services.warnings_notify(touched, now=now)
