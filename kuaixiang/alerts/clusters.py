"""Similar-complaint clusters: connected near-duplicates within a window, across categories.

A new complaint that triage linked to a near-duplicate (``Complaint.duplicate_of``: SimHash within
three bits, see ``kuaixiang.triage.neardup``) joins that complaint's cluster when the cluster grew
within :data:`CLUSTER_WINDOW`, or founds a new cluster with it. A complaint without such a link
that is very similar (within :data:`SIMILAR_BITS` bits) to a live cluster's founding complaint
joins the nearest such cluster: near-duplicates start clusters, similar complaints grow them.
The cluster keeps its size, first
and last member time and top terms (``neardup.top_terms`` over up to :data:`TERM_SAMPLE` members,
recomputed as the cluster doubles: at most once per cluster per batch, over its members at the
end of the batch). Rules with ``group_by: cluster`` count cluster growth in their
window under the scope key ``cluster:<id>``, whatever the members' categories.

A batch is decided in memory, complaint by complaint in order as if each came alone, then written
set-based: the number of queries depends on the clusters a batch touches, not on its size.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import F, Window
from django.db.models.functions import RowNumber

from kuaixiang.alerts.models import Cluster, ClusterMember

CLUSTER_WINDOW = timedelta(hours=24)
# "Very similar": within this many bits of a live cluster's founding fingerprint. Unrelated
# complaints of one category are 18+ bits apart (2,000 random pairs of complaints_dev.csv).
SIMILAR_BITS = 10
TERM_SAMPLE = 40
TERMS = 6


def cluster_label(cluster: Cluster) -> str:
    return "cluster: " + " ".join(cluster.top_terms[:TERMS])


class _State:
    """A cluster as this batch sees it: ``obj`` (unsaved for a cluster founded in this batch),
    the members added or moved into it (complaints, in order) and its size before the batch."""

    def __init__(self, obj: Cluster, *, order: tuple[int, int]):
        self.obj = obj
        self.order = order  # ties on distance go to the older cluster: existing pk, then founding order
        self.added: list = []
        self.size_before = obj.size
        self.grew = False
        self.refresh = False


def _refresh_terms(states: list[_State], texts_of: dict[int, str]) -> None:
    """Set the top terms of each state's cluster over its newest :data:`TERM_SAMPLE` members: the
    batch's own (newest) first, then older members read with one windowed query for all clusters."""
    from kuaixiang.complaints.models import Complaint
    from kuaixiang.triage.neardup import top_terms

    sample = {id(s): [c.pk for c in reversed(s.added)][:TERM_SAMPLE] for s in states}
    short = {s.obj.pk: s for s in states if s.obj.pk is not None and len(sample[id(s)]) < TERM_SAMPLE}
    if short:
        older = (
            ClusterMember.objects.filter(cluster_id__in=list(short))
            .annotate(
                row=Window(RowNumber(), partition_by=[F("cluster_id")], order_by=[F("at").desc(), F("pk").desc()])
            )
            .filter(row__lte=TERM_SAMPLE)
            .values_list("cluster_id", "complaint_id")
        )
        for cluster_id, complaint_id in older:
            ids = sample[id(short[cluster_id])]
            if len(ids) < TERM_SAMPLE and complaint_id not in ids:
                ids.append(complaint_id)
    missing = {pk for ids in sample.values() for pk in ids if pk not in texts_of}
    if missing:
        texts_of.update(Complaint.objects.filter(pk__in=missing).values_list("pk", "description"))
    for s in states:
        s.obj.top_terms = [term for term, _ in top_terms([texts_of[pk] for pk in sample[id(s)]], TERMS)]


def clusters_add(complaints, *, sandbox_of, rules_for: dict[int, list]) -> list:
    """Put near-duplicate and very similar complaints into clusters, each at its registration
    instant (``created_at``); count cluster growth for the cluster rules covering each complaint
    (``rules_for``: complaint id -> rules, already filtered by scope and sandbox); return the
    warnings raised or risen.

    Set-based: the batch is decided in memory, complaint by complaint in order, exactly as if each
    were added alone, from one read of the live clusters, of the memberships of the batch and of
    its ``duplicate_of`` originals, and of the originals; then written with one insert of the new
    clusters, one of the new members, one update per cluster receiving moved members, one
    size/last_at update per touched cluster (a relative update, safe under concurrent intake;
    clusters sharing an increment share the statement) and top terms refreshed at most once per
    cluster per batch (when the batch doubled it, over the final members)."""
    from kuaixiang.alerts import counting
    from kuaixiang.complaints.models import Complaint
    from kuaixiang.triage.neardup import hamming

    complaints = list(complaints)
    if not complaints:
        return []
    states: dict[int, _State] = {}  # existing clusters by pk

    def state_of(cluster: Cluster) -> _State:
        if cluster.pk not in states:
            states[cluster.pk] = _State(cluster, order=(0, cluster.pk))
        return states[cluster.pk]

    now = complaints[-1].created_at  # the latest: complaints come in order of registration
    centroids = [state_of(k) for k in Cluster.objects.filter(last_at__gte=complaints[0].created_at - CLUSTER_WINDOW)]
    dup_ids = {c.duplicate_of_id for c in complaints if getattr(c, "duplicate_of_id", None)}
    member_of: dict[int, tuple[int | None, _State]] = {}  # complaint id -> (member pk, its cluster)
    for m in ClusterMember.objects.select_related("cluster").filter(
        complaint_id__in=dup_ids | {c.pk for c in complaints}
    ):
        member_of[m.complaint_id] = (m.pk, state_of(m.cluster))
    originals = {
        o.pk: o for o in Complaint.objects.filter(pk__in=dup_ids).only("pk", "simhash", "created_at", "description")
    }
    texts_of = {c.pk: c.description for c in complaints} | {o.pk: o.description for o in originals.values()}
    founded: list[_State] = []
    new_members: list[tuple[_State, object, datetime]] = []  # (cluster, complaint, joined at) in order
    moved: dict[int, _State] = {}  # member pk -> its new cluster
    grown: list[tuple[object, _State, list]] = []  # (complaint, cluster, complaints counted)

    for c in complaints:
        sandbox, at = sandbox_of(c), c.created_at
        cluster, original, joined = None, None, None
        if getattr(c, "duplicate_of_id", None):
            joined = member_of.get(c.duplicate_of_id)
            if joined is not None:
                k = joined[1].obj
                if k.last_at >= at - CLUSTER_WINDOW and k.sandbox == sandbox:
                    cluster = joined[1]
            if cluster is None:
                original = originals.get(c.duplicate_of_id)
        founders = []
        if cluster is None:
            if c.simhash is not None:
                live = [s for s in centroids if s.obj.sandbox == sandbox and s.obj.last_at >= at - CLUSTER_WINDOW]
                near = [(hamming(c.simhash, s.obj.simhash), s.order, s) for s in live]
                near = [x for x in near if x[0] <= SIMILAR_BITS]
                cluster = min(near, key=lambda x: x[:2])[2] if near else None
            if original is not None:
                if cluster is None:
                    fp = original.simhash or 0
                    obj = Cluster(sandbox=sandbox, simhash=fp, size=0, first_at=original.created_at, last_at=at)
                    cluster = _State(obj, order=(1, len(founded)))
                    founded.append(cluster)
                    centroids.append(cluster)
                if joined is None:
                    new_members.append((cluster, original, at))
                    member_of[original.pk] = (None, cluster)
                else:  # its old cluster went quiet: the original moves to the live one
                    if joined[0] is not None:
                        moved[joined[0]] = cluster
                    else:  # a member new in this batch: re-target its pending insert
                        new_members = [(cluster if x.pk == original.pk else s, x, t) for s, x, t in new_members]
                    joined[1].added = [x for x in joined[1].added if x.pk != original.pk]
                    member_of[original.pk] = (joined[0], cluster)
                cluster.added.append(original)
                founders = [original]
        if cluster is None or c.pk in member_of:
            continue
        new_members.append((cluster, c, at))
        member_of[c.pk] = (None, cluster)
        cluster.added.append(c)
        added = [c, *founders]
        cluster.obj.size += len(added)
        cluster.obj.last_at = at
        cluster.grew = True
        if cluster.obj.size & (cluster.obj.size - 1) == 0 or not cluster.obj.top_terms:
            cluster.refresh = True  # 2, 4, 8 … members, or no terms yet
        grown.append((c, cluster, added))

    _write(founded, states, new_members, moved, texts_of, now)
    hits: dict[tuple[int, str], list] = defaultdict(list)
    scopes: dict[tuple[int, str], counting.Scope] = {}
    rules: dict[int, object] = {}
    for c, cluster, added in grown:
        key = f"cluster:{cluster.obj.pk}"
        for rule in rules_for.get(c.pk, ()):
            hits[(rule.pk, key)].extend((c.created_at, x) for x in added)
            scopes[(rule.pk, key)] = counting.Scope(key, cluster_label(cluster.obj), cluster_id=cluster.obj.pk)
            rules[rule.pk] = rule
    if not hits:
        return []
    return counting.count_and_warn(hits, rules, scopes)


def _write(founded, states, new_members, moved, texts_of, now) -> None:
    """Write what :func:`clusters_add` decided: new clusters with their final size and terms,
    members, moves, then one relative size/last_at update per touched existing cluster."""
    _refresh_terms([s for s in founded if s.refresh], texts_of)
    if connection.features.can_return_rows_from_bulk_insert:
        Cluster.objects.bulk_create([s.obj for s in founded])
    else:  # backends without RETURNING ids: the members need the clusters' ids
        for s in founded:
            s.obj.save()
    ClusterMember.objects.bulk_create(
        [ClusterMember(cluster=s.obj, complaint=x, simhash=x.simhash or 0, at=at) for s, x, at in new_members]
    )
    by_target: dict[int, list[int]] = defaultdict(list)
    for member_pk, s in moved.items():
        by_target[s.obj.pk].append(member_pk)
    for cluster_pk, member_pks in by_target.items():
        ClusterMember.objects.filter(pk__in=member_pks).update(cluster_id=cluster_pk, at=now)
    touched = [s for s in states.values() if s.grew]
    refreshed = [s for s in touched if s.refresh]
    _refresh_terms(refreshed, texts_of)
    by_increment: dict[tuple[int, datetime], list[int]] = defaultdict(list)
    for s in touched:
        n = s.obj.size - s.size_before
        if s.refresh:
            Cluster.objects.filter(pk=s.obj.pk).update(
                size=F("size") + n, last_at=s.obj.last_at, top_terms=s.obj.top_terms
            )
        else:
            by_increment[(n, s.obj.last_at)].append(s.obj.pk)
    for (n, last_at), pks in by_increment.items():
        Cluster.objects.filter(pk__in=pks).update(size=F("size") + n, last_at=last_at)
