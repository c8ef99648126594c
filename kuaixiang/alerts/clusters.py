"""Similar-complaint clusters: connected near-duplicates within a window, across categories.

A new complaint that triage linked to a near-duplicate (``Complaint.duplicate_of``: SimHash within
three bits, see ``kuaixiang.triage.neardup``) joins that complaint's cluster when the cluster grew
within :data:`CLUSTER_WINDOW`, or founds a new cluster with it. A complaint without such a link
that is very similar (within :data:`SIMILAR_BITS` bits) to a live cluster's founding complaint
joins the nearest such cluster: near-duplicates start clusters, similar complaints grow them.
The cluster keeps its size, first
and last member time and top terms (``neardup.top_terms`` over up to :data:`TERM_SAMPLE` members,
recomputed as the cluster doubles). Rules with ``group_by: cluster`` count cluster growth in their
window under the scope key ``cluster:<id>``, whatever the members' categories.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.db.models import F

from kuaixiang.alerts.models import Cluster, ClusterMember

CLUSTER_WINDOW = timedelta(hours=24)
# "Very similar": within this many bits of a live cluster's founding fingerprint. Unrelated
# complaints of one category are 18+ bits apart (2,000 random pairs of complaints_dev.csv).
SIMILAR_BITS = 10
TERM_SAMPLE = 40
TERMS = 6


def cluster_label(cluster: Cluster) -> str:
    return "cluster: " + " ".join(cluster.top_terms[:TERMS])


def _refresh_terms(cluster: Cluster) -> None:
    from kuaixiang.complaints.models import Complaint
    from kuaixiang.triage.neardup import top_terms

    ids = (
        ClusterMember.objects.filter(cluster=cluster)
        .order_by("-at")
        .values_list("complaint_id", flat=True)[:TERM_SAMPLE]
    )
    texts = list(Complaint.objects.filter(pk__in=list(ids)).values_list("description", flat=True))
    cluster.top_terms = [term for term, _ in top_terms(texts, TERMS)]
    Cluster.objects.filter(pk=cluster.pk).update(top_terms=cluster.top_terms)


def _cluster_for(c, *, sandbox: bool, now: datetime, centroids: list[Cluster]) -> tuple[Cluster | None, list]:
    """The cluster ``c`` joins and the complaints that join it with ``c`` (its near-duplicate
    original when that was in no live cluster); (None, []) when ``c`` is neither a near-duplicate
    nor very similar to a live cluster."""
    from kuaixiang.complaints.models import Complaint
    from kuaixiang.triage.neardup import hamming

    member = original = None
    if getattr(c, "duplicate_of_id", None):
        member = ClusterMember.objects.select_related("cluster").filter(complaint_id=c.duplicate_of_id).first()
        if member is not None and member.cluster.last_at >= now - CLUSTER_WINDOW and member.cluster.sandbox == sandbox:
            return member.cluster, []
        original = Complaint.objects.filter(pk=c.duplicate_of_id).only("pk", "simhash", "created_at").first()
    near = []
    if c.simhash is not None:
        near = [(hamming(c.simhash, k.simhash), k.pk, k) for k in centroids if k.sandbox == sandbox]
        near = [x for x in near if x[0] <= SIMILAR_BITS]
    cluster = min(near)[2] if near else None
    if original is None:
        return cluster, []
    if cluster is None:
        fp = original.simhash or 0
        cluster = Cluster.objects.create(sandbox=sandbox, simhash=fp, size=0, first_at=original.created_at, last_at=now)
        centroids.append(cluster)
    if member is None:
        ClusterMember.objects.create(cluster=cluster, complaint=original, simhash=original.simhash or 0, at=now)
    else:  # its old cluster went quiet: the original moves to the live one
        ClusterMember.objects.filter(pk=member.pk).update(cluster=cluster, at=now)
    return cluster, [original]


def clusters_add(complaints, *, sandbox_of, rules_for: dict[int, list], now: datetime) -> list:
    """Put near-duplicate and very similar complaints into clusters; count cluster growth for the
    cluster rules covering each complaint (``rules_for``: complaint id -> rules, already filtered
    by scope and sandbox); return the warnings raised or risen."""
    from kuaixiang.alerts import counting

    centroids = list(Cluster.objects.filter(last_at__gte=now - CLUSTER_WINDOW))
    hits: dict[tuple[int, str], list] = defaultdict(list)
    scopes: dict[tuple[int, str], counting.Scope] = {}
    rules: dict[int, object] = {}
    for c in complaints:
        sandbox = sandbox_of(c)
        cluster, founders = _cluster_for(c, sandbox=sandbox, now=now, centroids=centroids)
        if cluster is None or ClusterMember.objects.filter(complaint=c).exists():
            continue
        ClusterMember.objects.create(cluster=cluster, complaint=c, simhash=c.simhash or 0, at=now)
        added = [c, *founders]
        Cluster.objects.filter(pk=cluster.pk).update(size=F("size") + len(added), last_at=now)
        cluster.size += len(added)
        cluster.last_at = now
        if cluster.size & (cluster.size - 1) == 0 or not cluster.top_terms:  # 2, 4, 8 … members
            _refresh_terms(cluster)
        key = f"cluster:{cluster.pk}"
        for rule in rules_for.get(c.pk, ()):
            hits[(rule.pk, key)].extend(added)
            scopes[(rule.pk, key)] = counting.Scope(key, cluster_label(cluster), cluster_id=cluster.pk)
            rules[rule.pk] = rule
    if not hits:
        return []
    return counting.count_and_warn(hits, rules, scopes, now)
