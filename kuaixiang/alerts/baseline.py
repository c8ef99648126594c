"""Baseline (surge) rules, evaluated every minute by ``tasks.evaluate_baselines``.

For each active rule with a baseline condition and each scope that had complaints in the last two
hours (or whose CUSUM is still above zero), the hourly series (``HourlyCount``) gives the last 60
minutes, the 60 before, and the expected rate for this hour of the week from the same hours of
the previous ``weeks`` weeks (``detectors.same_hour_baseline``). The pure detectors in
``kuaixiang.alerts.detectors`` decide; this module only reads series and writes warnings.

Cost per evaluation does not grow with the history: only the hours a detector looks at are read
(the current three and the same hours of past weeks), the CUSUM's mean rate is one ``SUM`` per
scope, and the scopes with recent complaints and the first hour of the series are read once per
evaluation and shared by the rules.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Sum

from kuaixiang.alerts import counting, detectors, services
from kuaixiang.alerts.models import Condition, DetectorState, GroupBy, HourlyCount, WarningRule
from kuaixiang.alerts.windows import hour_floor, window_at
from kuaixiang.complaints.models import Channel

HOUR = timedelta(hours=1)
MAX_STEP = timedelta(minutes=10)  # a stalled worker does not feed hours of "expected" at once


def _scope_keys(rule: WarningRule, active: set[str]) -> dict[str, tuple[str, int | None, str]]:
    """Scope keys of ``rule`` among ``active`` keys: key -> (label, category id, channel)."""
    from kuaixiang.triage.models import Category

    out: dict[str, tuple[str, int | None, str]] = {}
    if rule.group_by == GroupBy.ALL:
        if rule.channel:
            key = f"chan:{rule.channel}"
            if key in active:
                out[key] = (str(Channel(rule.channel).label), None, rule.channel)
        elif rule.category_id:
            key = f"cat:{rule.category_id}"
            if key in active:
                out[key] = (rule.category.full_name.replace(" / ", "/"), rule.category_id, "")
        elif "all" in active:
            out["all"] = ("全部", None, "")
    elif rule.group_by == GroupBy.CHANNEL:
        for key in active:
            if key.startswith("chan:") and key[5:] in Channel.values and (not rule.channel or key[5:] == rule.channel):
                out[key] = (str(Channel(key[5:]).label), None, key[5:])
    elif rule.group_by == GroupBy.CATEGORY:
        ids = [int(k[4:]) for k in active if k.startswith("cat:")]
        known = counting.categories_cached()
        if rule.category_level and known is not None and all(i in known for i in ids):
            # A replay remembers every category it counted: (path, level, label), as the query below.
            under = rule.category.path if rule.category_id else ""
            for pk in sorted(ids, key=lambda i: known[i][0]):  # the Category ordering: path
                path, level, label = known[pk]
                if level == rule.category_level and path.startswith(under):
                    out[f"cat:{pk}"] = (label, pk, "")
            return out
        qs = Category.objects.filter(pk__in=ids)
        # A level names the nodes compared; without one, the leaves (where complaints are filed).
        qs = qs.filter(level=rule.category_level) if rule.category_level else qs.filter(children__isnull=True)
        if rule.category_id:
            qs = qs.filter(path__startswith=rule.category.path)
        for pk, name in qs.values_list("pk", "full_name"):
            out[f"cat:{pk}"] = (name.replace(" / ", "/"), pk, "")
    return out


class _Series:
    """What every rule of one evaluation reads alike, per sandbox flag: the counts of the current
    and previous hour by scope key (their keys are the scopes with recent complaints), and the first
    hour of the series. With a memo, the counts as of the evaluated instant: without what
    complaints registered for later instants (``memo.ahead``) added."""

    def __init__(self, hour: datetime, memo: PastSeries | None = None) -> None:
        self.hour = hour
        self.memo = memo
        self._recent: dict[bool, dict[tuple[str, datetime], int]] = {}
        self._first: dict[bool, datetime | None] = {}

    def recent(self, sandbox: bool) -> dict[tuple[str, datetime], int]:
        """(scope key, hour) -> count for the previous and the current hour."""
        if sandbox not in self._recent:
            stored = self.memo.stored.get((sandbox, self.hour)) if self.memo else None
            if stored is None:
                rows = HourlyCount.objects.filter(sandbox=sandbox, hour__gte=self.hour - HOUR, hour__lte=self.hour)
                stored = {(k, at): n for k, at, n in rows.values_list("scope_key", "hour", "count")}
                if self.memo:
                    self.memo.stored[(sandbox, self.hour)] = stored
            recent = stored
            ahead = self.memo.ahead.get(self.hour) if self.memo else None
            if ahead:  # later rows count only in this hour or later ones
                recent = dict(stored)
                for (flag, k), n in ahead.items():
                    if n and flag == sandbox and (k, self.hour) in recent:
                        recent[(k, self.hour)] -= n
                        if recent[(k, self.hour)] <= 0:
                            del recent[(k, self.hour)]
            self._recent[sandbox] = recent
        return self._recent[sandbox]

    def first(self, sandbox: bool) -> datetime | None:
        if sandbox not in self._first:
            self._first[sandbox] = (
                HourlyCount.objects.filter(sandbox=sandbox).order_by("hour").values_list("hour", flat=True).first()
            )
        return self._first[sandbox]


class PastSeries:
    """What a caller evaluating minute after minute of one stream (a replay) remembers across
    evaluations: the hours before the current one, and the hourly series read since the last write
    (``stored``; the caller calls :meth:`written` after each registration). Valid only while every
    write to the hourly series goes to the hour being evaluated or later ones, so the past hours
    cannot change while the evaluated hour stays the same; a new hour starts afresh.

    ``ahead`` — hour -> (sandbox, scope key) -> count — is what complaints registered for instants
    after the evaluated one added to the series (a replay registers a stretch of rows at their own
    instants, then evaluates each of their minutes): the evaluation subtracts it, so it sees the
    series as it stood at that instant."""

    def __init__(self) -> None:
        self.hour: datetime | None = None
        self.rows: dict[tuple[int, str], tuple[dict[datetime, int], int]] = {}
        self.first: dict[bool, datetime] = {}  # the series' first hour, once there is one
        self.expected: dict[tuple[int, str], float | None] = {}  # this hour's, from past weeks only
        self.stored: dict[tuple[bool, datetime], dict[tuple[str, datetime], int]] = {}
        self.ahead: dict[datetime, Counter] = {}
        self.states: dict[int, dict[str, DetectorState]] = {}  # the CUSUM rules' states, current
        self.changed: dict[int, DetectorState] = {}  # states changed since states_save
        self.scopes: dict[tuple[int, frozenset], dict] = {}  # _scope_keys by rule and active keys

    def written(self) -> None:
        self.stored = {}

    def states_save(self) -> None:
        """Write the detector states changed by the evaluations since the last call (one query)."""
        if self.changed:
            DetectorState.objects.bulk_update(self.changed.values(), ["value", "seen_hour", "seen_count", "updated_at"])
            self.changed = {}

    def at(self, hour: datetime) -> dict[tuple[int, str], tuple[dict[datetime, int], int]]:
        if hour != self.hour:
            self.hour, self.rows, self.first, self.expected = hour, {}, {}, {}
        return self.rows


def _hours_read(hour: datetime, weeks: int, spread: int = 1) -> list[datetime]:
    """The hours before ``hour`` a rule's detectors look at: the previous two and the same hours of
    past weeks."""
    week = detectors.HOURS_PER_WEEK
    past = [hour - HOUR * (week * w - d) for w in range(1, weeks + 1) for d in range(-spread, spread + 1)]
    return [hour - HOUR, hour - 2 * HOUR, *past]


def _past(rule: WarningRule, keys: list[str], hour: datetime, weeks: int) -> dict[str, tuple[dict, int]]:
    """Per scope key: the counts of the past hours the detectors read, and (for the CUSUM's mean
    rate) the sum of hours 2 … 168·weeks − 1 back."""
    out: dict[str, tuple[dict, int]] = {k: ({}, 0) for k in keys}
    for key, at, n in HourlyCount.objects.filter(
        sandbox=rule.sandbox, scope_key__in=keys, hour__in=_hours_read(hour, weeks)
    ).values_list("scope_key", "hour", "count"):
        out[key][0][at] = n
    if rule.condition == Condition.POISSON:
        for key, n in (
            HourlyCount.objects.filter(
                sandbox=rule.sandbox,
                scope_key__in=keys,
                hour__gte=hour - HOUR * (detectors.HOURS_PER_WEEK * weeks - 1),
                hour__lte=hour - 2 * HOUR,
            )
            .values("scope_key")
            .annotate(n=Sum("count"))
            .values_list("scope_key", "n")
        ):
            out[key] = (out[key][0], n or 0)
    return out


def _evaluate_rule(
    rule: WarningRule, now: datetime, touched: list, shared: _Series, memo: PastSeries | None = None
) -> None:
    hour = hour_floor(now)
    weeks = int(rule.params.get("weeks", 4))
    current = shared.recent(rule.sandbox)
    recent = {k for k, _ in current}
    states: dict[str, DetectorState] = {}
    if rule.condition == Condition.POISSON:
        if memo is None or rule.pk not in memo.states:
            states = {s.scope_key: s for s in DetectorState.objects.filter(rule=rule)}
            if memo is not None:
                memo.states[rule.pk] = states
        else:
            states = memo.states[rule.pk]
        recent |= {k for k, s in states.items() if s.value > 0}
    if memo is None:
        keys = _scope_keys(rule, recent)
    else:  # the scopes with recent complaints rarely change from one minute to the next
        cached = (rule.pk, frozenset(recent))
        if cached not in memo.scopes:
            memo.scopes[cached] = _scope_keys(rule, recent)
        keys = memo.scopes[cached]
    if rule.condition in (Condition.SAME_HOUR_RATIO, Condition.HOUR_CHANGE):
        # Stateless: no scope can reach min_count in the last 60 minutes -> nothing to observe.
        keys = {
            k: v
            for k, v in keys.items()
            if current.get((k, hour), 0) + current.get((k, hour - HOUR), 0) >= rule.min_count
        }
    if not keys:
        return
    remembered = memo.at(hour) if memo is not None else {}
    if memo is not None and rule.sandbox in memo.first:
        first = memo.first[rule.sandbox]
    else:
        first = shared.first(rule.sandbox)
        if memo is not None and first is not None:
            memo.first[rule.sandbox] = first
    missing = [k for k in keys if (rule.pk, k) not in remembered]
    if missing:
        for key, found in _past(rule, missing, hour, weeks).items():
            remembered[(rule.pk, key)] = found
    series: dict[str, dict[datetime, int]] = {}
    history: dict[str, int] = {}
    for key in keys:
        past, history[key] = remembered[(rule.pk, key)]
        series[key] = {**past, hour: current.get((key, hour), 0)}
    for key, (label, category_id, channel) in keys.items():
        counts = series.get(key, {})

        def count_at(offset: int, counts=counts) -> float | None:
            at = hour + HOUR * offset
            return None if first is None or at < first else float(counts.get(at, 0))

        if memo is not None and (rule.pk, key) in memo.expected:
            expected = memo.expected[(rule.pk, key)]
        else:
            expected = detectors.same_hour_baseline(count_at, 0, weeks=weeks, spread=1)
            if memo is not None:
                memo.expected[(rule.pk, key)] = expected
        cur, prev, prev2 = (counts.get(hour - HOUR * i, 0) for i in range(3))
        minute = (now - hour) // timedelta(minutes=1)
        last60 = detectors.rolling_hour(cur, prev, minute)
        figure, alarm = 0.0, False
        if rule.condition == Condition.SAME_HOUR_RATIO:
            if expected is None:
                continue
            figure = detectors.same_hour_ratio(last60, expected, prior=float(rule.params.get("prior", 1)))
            alarm = True
        elif rule.condition == Condition.HOUR_CHANGE:
            before = detectors.rolling_hour(prev, prev2, minute)
            figure = detectors.hour_change(last60, before, prior=float(rule.params.get("prior", 1)))
            alarm = True
        elif rule.condition == Condition.POISSON:
            if expected is None:
                continue
            alarm, figure = _cusum(rule, key, states, counts, history.get(key, 0), hour, now, expected, memo)
        level = rule.level_for(figure) if alarm and last60 >= rule.min_count else 0
        if rule.condition == Condition.POISSON and alarm and last60 >= rule.min_count:
            level = max(level, min(int(x["level"]) for x in rule.levels))
        if level:
            result = services.warning_observe(
                rule=rule,
                scope_key=key,
                scope_label=label,
                window=window_at("rolling_hours", 1, now),
                level=level,
                count=round(last60),
                figure=figure,
                expected=expected,
                now=now,
                category_id=category_id,
                channel=channel,
            )
            if result:
                touched.append(result)


def _cusum(rule, key, states, counts, history_sum, hour, now, expected, memo=None) -> tuple[bool, float]:
    """Feed the complaints since the last evaluation to the scope's CUSUM; return (alarm, ratio).
    ``history_sum``: the scope's complaints 2 … 168·weeks − 1 hours back (the mean rate's sum).
    ``states``: the rule's detector states by scope key, kept up to date; with a memo the changes
    are written by :meth:`PastSeries.states_save`."""
    weeks = int(rule.params.get("weeks", 4))
    ratio = float(rule.params.get("ratio", 3))
    cur = counts.get(hour, 0)
    state = states.get(key)
    if state is None:
        state = DetectorState(rule=rule, scope_key=key, value=0, seen_hour=hour, seen_count=cur, updated_at=now)
        state.save()
        states[key] = state
        return False, 0.0
    if state.seen_hour == hour:
        delta = cur - state.seen_count
    elif state.seen_hour == hour - HOUR:
        delta = counts.get(hour - HOUR, 0) - state.seen_count + cur
    else:
        delta = cur
    elapsed = min(max(now - state.updated_at, timedelta(0)), MAX_STEP) / HOUR
    mean_rate = max(history_sum / (detectors.HOURS_PER_WEEK * weeks - 2), detectors.MIN_RATE)
    threshold = detectors.cusum_threshold(
        rate=mean_rate, ratio=ratio, arl_hours=float(rule.params.get("arl_days", 60)) * 24
    )
    floor = float(rule.params.get("min_expected", detectors.MIN_RATE))
    cusum = detectors.PoissonCusum(ratio=ratio, threshold=threshold, value=state.value)
    alarm = cusum.step(max(delta, 0), max(expected, floor) * elapsed)
    state.value, state.seen_hour, state.seen_count, state.updated_at = cusum.value, hour, cur, now
    if memo is None:
        DetectorState.objects.filter(pk=state.pk).update(
            value=state.value, seen_hour=hour, seen_count=cur, updated_at=now
        )
    else:
        memo.changed[state.pk] = state
    last60 = detectors.rolling_hour(cur, counts.get(hour - HOUR, 0), (now - hour) // timedelta(minutes=1))
    return alarm, last60 / max(expected, floor)


def baseline_rules(*, sandbox: bool | None = None) -> list[WarningRule]:
    """The active baseline rules (of the sandbox or the real organisation only, when given)."""
    rules = WarningRule.objects.filter(active=True).exclude(condition=Condition.THRESHOLD).select_related("category")
    return list(rules if sandbox is None else rules.filter(sandbox=sandbox))


@transaction.atomic(savepoint=False)  # inside a replay's transaction: no savepoint per minute
def baselines_evaluate(
    *, now: datetime, rules: list[WarningRule] | None = None, memo: PastSeries | None = None
) -> list:
    """Evaluate the active baseline rules at ``now``; notify (grouped) and return the warnings
    raised or risen as (warning, previous level). A caller evaluating one stream minute after minute
    (a replay) passes ``rules`` (from :func:`baseline_rules`, read once) and a :class:`PastSeries`
    (see its contract); the default reads everything now."""
    touched: list = []
    shared = _Series(hour_floor(now), memo)
    for rule in baseline_rules() if rules is None else rules:
        _evaluate_rule(rule, now, touched, shared, memo)
    services.warnings_notify(touched, now=now)
    return touched
