"""Baseline (surge) rules evaluated every minute against the scope's own history."""

from datetime import UTC, datetime, timedelta

import time_machine

from kuaixiang.alerts.baseline import baselines_evaluate
from kuaixiang.alerts.models import HourlyCount, Warning
from kuaixiang.alerts.windows import hour_floor
from tests.alerts.conftest import make_rule
from tests.personas import register

NOON = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)  # 12:00 Shanghai


def history(org, per_hour: int, weeks: int = 4) -> None:
    """Four weeks of ``per_hour`` complaints an hour on the leaf category (and its ancestors)."""
    rows = []
    hour = hour_floor(NOON)
    for h in range(1, weeks * 168 + 3):
        at = hour - timedelta(hours=h)
        for key in (f"cat:{org.leaf.pk}", "all", "chan:phone"):
            rows.append(HourlyCount(scope_key=key, hour=at, count=per_hour))
    HourlyCount.objects.bulk_create(rows)


def burst(org, n: int, at: datetime) -> None:
    with time_machine.travel(at, tick=False):
        for _ in range(n):
            register(org.agent, category_id=org.leaf.pk)


def test_a_surge_against_the_same_hour_of_recent_weeks_warns(org):
    make_rule(
        code="surge",
        condition="same_hour_ratio",
        window_kind="rolling_hours",
        min_count=10,
        category_level=3,
        levels=[{"level": 1, "at": 3, "notify": []}, {"level": 2, "at": 6, "notify": []}],
    )
    history(org, 4)
    burst(org, 12, NOON + timedelta(minutes=20))
    assert not Warning.objects.exists()  # baseline rules do not run on intake
    baselines_evaluate(now=NOON + timedelta(minutes=21))
    warning = Warning.objects.get()
    assert warning.level == 1 and warning.expected == 4
    burst(org, 20, NOON + timedelta(minutes=30))
    baselines_evaluate(now=NOON + timedelta(minutes=31))
    assert Warning.objects.get().level == 2  # the same warning rose


def test_the_poisson_cusum_fires_on_a_surge_and_not_on_normal_traffic(org):
    make_rule(
        code="cusum",
        condition="poisson",
        window_kind="rolling_hours",
        min_count=5,
        params={"ratio": 3, "arl_days": 60},
        levels=[{"level": 1, "at": 1, "notify": []}],
    )
    history(org, 5)
    burst(org, 1, NOON)
    baselines_evaluate(now=NOON + timedelta(minutes=1))  # first sight: the detector starts
    burst(org, 1, NOON + timedelta(minutes=10))
    baselines_evaluate(now=NOON + timedelta(minutes=11))
    assert not Warning.objects.exists()
    burst(org, 25, NOON + timedelta(minutes=15))
    baselines_evaluate(now=NOON + timedelta(minutes=16))
    warning = Warning.objects.get()
    assert warning.scope_label == "网络质量/移动网络/信号弱" and warning.count >= 25


def test_a_doubling_against_the_previous_hour_warns(org):
    make_rule(
        code="change",
        condition="hour_change",
        group_by="all",
        window_kind="rolling_hours",
        min_count=10,
        levels=[{"level": 1, "at": 2, "notify": []}],
    )
    burst(org, 5, NOON - timedelta(minutes=30))
    burst(org, 20, NOON + timedelta(minutes=50))
    baselines_evaluate(now=NOON + timedelta(minutes=59))
    assert Warning.objects.get().scope_label == "全部"


def test_the_minute_task_runs_the_baseline_rules(org):
    from kuaixiang.alerts.tasks import evaluate_baselines

    make_rule(
        code="change",
        condition="hour_change",
        group_by="all",
        window_kind="rolling_hours",
        min_count=10,
        levels=[{"level": 1, "at": 2, "notify": []}],
    )
    burst(org, 20, NOON + timedelta(minutes=50))
    with time_machine.travel(NOON + timedelta(minutes=55), tick=False):
        assert evaluate_baselines.call_local() == 1
