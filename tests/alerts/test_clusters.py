"""Clusters of near-duplicate and very similar complaints warn across categories."""

from datetime import UTC, datetime

import time_machine

from kuaixiang.alerts.models import Cluster, Warning
from kuaixiang.triage.models import Category
from tests.alerts.conftest import make_rule
from tests.personas import register

MORNING = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
TEXT = "幸福小区{}号楼室内信号很差，手机经常显示无服务，打电话断断续续听不清，已经持续一周"


def test_similar_complaints_in_different_categories_form_one_growing_cluster(org):
    make_rule(
        code="cluster", group_by="cluster", window_kind="rolling_hours", levels=[{"level": 1, "at": 6, "notify": []}]
    )
    other = Category.objects.create(name="宽带", code="bb")
    with time_machine.travel(MORNING, tick=False):
        register(org.agent, description=TEXT.format(1), category_id=org.leaf.pk)
        register(org.agent, description=TEXT.format(1), category_id=other.pk)  # near-duplicate: founds it
        for i in range(2, 6):
            register(org.agent, description=TEXT.format(i), category_id=[org.leaf.pk, other.pk][i % 2])
        register(org.agent, description="营业厅排队两个小时没人办理业务，服务态度很差")  # unrelated
    cluster = Cluster.objects.get()
    assert cluster.size == 6
    assert any("信号" in t for t in cluster.top_terms)
    warning = Warning.objects.get()
    assert warning.cluster == cluster and warning.scope_label.startswith("cluster: ")
    assert warning.links.count() == 6


def test_a_cluster_rule_counts_only_complaints_in_its_category_subtree(org):
    make_rule(
        code="cluster",
        group_by="cluster",
        category=org.leaf,
        window_kind="rolling_hours",
        levels=[{"level": 1, "at": 3, "notify": []}],
    )
    other = Category.objects.create(name="宽带", code="bb")
    with time_machine.travel(MORNING, tick=False):
        for _ in range(4):
            register(org.agent, description=TEXT.format(1), category_id=other.pk)
    assert Cluster.objects.get().size == 4
    assert not Warning.objects.exists()
