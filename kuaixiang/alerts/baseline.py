"""Baseline (surge) rules, evaluated every minute by ``tasks.evaluate_baselines``.

For each active rule with a baseline condition and each scope that had complaints in the last two
hours (or whose CUSUM is still above zero), the hourly series (``HourlyCount``) gives the last 60
minutes, the 60 before, and the expected rate for this hour of the week from the same hours of
the previous ``weeks`` weeks (``detectors.same_hour_baseline``). The pure detectors in
``kuaixiang.alerts.detectors`` decide; this module only reads series and writes warnings.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.db import transaction

from kuaixiang.alerts import detectors, services
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
        qs = Category.objects.filter(pk__in=ids)
        # A level names the nodes compared; without one, the leaves (where complaints are filed).
        qs = qs.filter(level=rule.category_level) if rule.category_level else qs.filter(children__isnull=True)
        if rule.category_id:
            qs = qs.filter(path__startswith=rule.category.path)
        for pk, name in qs.values_list("pk", "full_name"):
            out[f"cat:{pk}"] = (name.replace(" / ", "/"), pk, "")
    return out


def _evaluate_rule(rule: WarningRule, now: datetime, touched: list) -> None:
    hour = hour_floor(now)
    weeks = int(rule.params.get("weeks", 4))
    since = hour - HOUR * (detectors.HOURS_PER_WEEK * weeks + 2)
    recent = set(
        HourlyCount.objects.filter(sandbox=rule.sandbox, hour__gte=hour - HOUR).values_list("scope_key", flat=True)
    )
    states = {s.scope_key: s for s in DetectorState.objects.filter(rule=rule)}
    if rule.condition == Condition.POISSON:
        recent |= {k for k, s in states.items() if s.value > 0}
    keys = _scope_keys(rule, recent)
    if not keys:
        return
    first = HourlyCount.objects.filter(sandbox=rule.sandbox).order_by("hour").values_list("hour", flat=True).first()
    series: dict[str, dict[datetime, int]] = defaultdict(dict)
    for key, at, n in HourlyCount.objects.filter(
        sandbox=rule.sandbox, scope_key__in=list(keys), hour__gte=since
    ).values_list("scope_key", "hour", "count"):
        series[key][at] = n
    for key, (label, category_id, channel) in keys.items():
        counts = series.get(key, {})

        def count_at(offset: int, counts=counts) -> float | None:
            at = hour + HOUR * offset
            return None if first is None or at < first else float(counts.get(at, 0))

        expected = detectors.same_hour_baseline(count_at, 0, weeks=weeks, spread=1)
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
            alarm, figure = _cusum(rule, key, states.get(key), counts, hour, now, expected)
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


def _cusum(rule, key, state, counts, hour, now, expected) -> tuple[bool, float]:
    """Feed the complaints since the last evaluation to the scope's CUSUM; return (alarm, ratio)."""
    weeks = int(rule.params.get("weeks", 4))
    ratio = float(rule.params.get("ratio", 3))
    cur = counts.get(hour, 0)
    if state is None:
        state = DetectorState(rule=rule, scope_key=key, value=0, seen_hour=hour, seen_count=cur, updated_at=now)
        state.save()
        return False, 0.0
    if state.seen_hour == hour:
        delta = cur - state.seen_count
    elif state.seen_hour == hour - HOUR:
        delta = counts.get(hour - HOUR, 0) - state.seen_count + cur
    else:
        delta = cur
    elapsed = min(max(now - state.updated_at, timedelta(0)), MAX_STEP) / HOUR
    history = [counts.get(hour - HOUR * i, 0) for i in range(2, detectors.HOURS_PER_WEEK * weeks)]
    mean_rate = max(sum(history) / max(len(history), 1), detectors.MIN_RATE)
    threshold = detectors.cusum_threshold(
        rate=mean_rate, ratio=ratio, arl_hours=float(rule.params.get("arl_days", 60)) * 24
    )
    floor = float(rule.params.get("min_expected", detectors.MIN_RATE))
    cusum = detectors.PoissonCusum(ratio=ratio, threshold=threshold, value=state.value)
    alarm = cusum.step(max(delta, 0), max(expected, floor) * elapsed)
    DetectorState.objects.filter(pk=state.pk).update(value=cusum.value, seen_hour=hour, seen_count=cur, updated_at=now)
    last60 = detectors.rolling_hour(cur, counts.get(hour - HOUR, 0), (now - hour) // timedelta(minutes=1))
    return alarm, last60 / max(expected, floor)


@transaction.atomic
def baselines_evaluate(*, now: datetime) -> list:
    """Evaluate every active baseline rule at ``now``; notify (grouped) and return the warnings
    raised or risen as (warning, previous level)."""
    touched: list = []
    rules = WarningRule.objects.filter(active=True).exclude(condition=Condition.THRESHOLD).select_related("category")
    for rule in rules:
        _evaluate_rule(rule, now, touched)
    services.warnings_notify(touched, now=now)
    return touched
