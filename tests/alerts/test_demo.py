"""The demo's surge raises real warnings through the telecom pack's rules; the demo reset clears them."""

from datetime import UTC, datetime

import time_machine

from kuaixiang.alerts.demo import alerts_reset, demo_surge
from kuaixiang.alerts.models import Cluster, HourlyCount, Warning
from kuaixiang.rulepacks import rulepack_load

NOON = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)


def test_the_demo_surge_raises_a_category_and_a_cluster_warning(org):
    rulepack_load("telecom")
    with time_machine.travel(NOON, tick=False):
        assert demo_surge(now=NOON) == 36
    codes = set(Warning.objects.values_list("rule__code", flat=True))
    assert {"cat5-day", "cluster-hour"} <= codes
    assert Cluster.objects.filter(size__gte=20).count() == 1  # one variant far from the rest may found its own
    alerts_reset()
    assert not Warning.objects.exists() and not HourlyCount.objects.exists()
