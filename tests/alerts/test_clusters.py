"""Clusters of near-duplicate and very similar complaints warn across categories."""

from datetime import UTC, datetime, timedelta

import time_machine

from kuaixiang.alerts.clusters import CLUSTER_WINDOW
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


def _bulk(actor, texts, **fields):
    from kuaixiang.complaints.intake import parse_complaint_input
    from kuaixiang.complaints.services import complaint_register_bulk

    data = {"channel": "phone", "complainant_phone": "13812345678", **fields}
    results = complaint_register_bulk(
        actor=actor, items=[parse_complaint_input({**data, "description": t}) for t in texts]
    )
    assert all(r.status == 201 for r in results)
    return [r.complaint for r in results]


def test_a_bulk_batch_clusters_as_complaints_registered_one_by_one(org):
    make_rule(
        code="cluster", group_by="cluster", window_kind="rolling_hours", levels=[{"level": 1, "at": 6, "notify": []}]
    )
    with time_machine.travel(MORNING, tick=False):
        register(org.agent, description=TEXT.format(1))
        _bulk(org.agent, [TEXT.format(1), *(TEXT.format(i) for i in range(2, 6)), "营业厅排队两个小时没人办理业务"])
    cluster = Cluster.objects.get()
    assert cluster.size == 6
    assert cluster.members.count() == 6
    assert any("信号" in t for t in cluster.top_terms)
    warning = Warning.objects.get()
    assert warning.cluster == cluster and warning.count == 6 and warning.links.count() == 6


def test_an_original_whose_cluster_went_quiet_moves_to_a_new_one(org):
    with time_machine.travel(MORNING, tick=False):
        first = register(org.agent, description=TEXT.format(1))
        register(org.agent, description=TEXT.format(1))
    old = Cluster.objects.get()
    with time_machine.travel(MORNING + CLUSTER_WINDOW + timedelta(hours=1), tick=False):
        (late,) = _bulk(org.agent, [TEXT.format(1)])
    assert late.duplicate_of_id is not None
    new = Cluster.objects.exclude(pk=old.pk).get()
    members = set(new.members.values_list("complaint_id", flat=True))
    assert late.pk in members and late.duplicate_of_id in members
    assert new.size == 2
    if late.duplicate_of_id == first.pk:
        assert not old.members.filter(complaint_id=first.pk).exists()


def _cluster_queries(monkeypatch, actor, texts) -> int:
    """Queries run by ``clusters_add`` for one bulk batch of ``texts``."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kuaixiang.alerts import clusters

    counted = []
    real = clusters.clusters_add

    def counting(*args, **kwargs):
        with CaptureQueriesContext(connection) as ctx:
            result = real(*args, **kwargs)
        counted.append(len(ctx.captured_queries))
        return result

    monkeypatch.setattr(clusters, "clusters_add", counting)
    _bulk(actor, texts)
    monkeypatch.setattr(clusters, "clusters_add", real)
    assert len(counted) == 1
    return counted[0]


def test_cluster_queries_of_a_batch_do_not_grow_with_its_size(org, monkeypatch):
    make_rule(
        code="cluster", group_by="cluster", window_kind="rolling_hours", levels=[{"level": 1, "at": 3, "notify": []}]
    )
    small_text = TEXT.format(7)
    large_text = "我家宽带每天晚上八点以后网速特别慢，看视频一直卡顿，打客服电话报修三次都没人上门处理"
    with time_machine.travel(MORNING, tick=False):
        register(org.agent, description=small_text)
        register(org.agent, description=small_text)  # a live cluster of two before each batch
        register(org.agent, description=large_text)
        register(org.agent, description=large_text)
        small = _cluster_queries(monkeypatch, org.agent, [small_text] * 4)
        large = _cluster_queries(monkeypatch, org.agent, [large_text] * 30)
    assert sorted(Cluster.objects.values_list("size", flat=True)) == [6, 32]
    assert large == small
