"""Triage at registration: fingerprint, repeat and near-duplicate links, grading (reads only).

:func:`triage_assess` is called by ``complaints.services.complaint_register*`` on the
*unsaved* complaints of one registration, before they are inserted: it sets ``simhash`` and
its bands, ``repeat_of``, ``duplicate_of``, the graded ``severity`` / ``intent`` /
``request_type`` / ``validity`` / ``flags`` and the ``grading`` record (matched rules and
why). It reads with a fixed number of indexed queries per batch (rules stamp, categories,
recent complaints by phone, open complaints by SimHash band, and one grouped count per
window the rules need) whatever the batch size, and writes nothing.

Links to complaints earlier in the same batch (which have no id yet) are returned as
``pending`` and set by the caller after the insert (:func:`links_apply`).

Definitions (docs/triage.md):

* **repeat** (重复投诉): a complaint from the same phone registered earlier and received at
  most ``KX_REPEAT_WINDOW_DAYS`` before this one, about the same subject: categories related at
  ``KX_REPEAT_CATEGORY_LEVEL`` (one's ancestor at that level is, or is an ancestor of, the
  other's) or near-duplicate descriptions. ``repeat_of`` is the most recent such complaint
  among the phone's last :data:`REPEAT_SCAN` registrations (stored ones received before the
  window are not among them), so a phone with thousands of complaints costs no more.
* **near-duplicate** (疑似重复): an open complaint (not closed, merged or refused) whose
  description fingerprint is within :data:`neardup.MAX_DISTANCE` bits; ``duplicate_of`` is
  the nearest (then the oldest).
"""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from operator import attrgetter

from django.conf import settings
from django.db.models import Count, Max, Q, QuerySet

from kuaixiang.complaints.models import Complaint
from kuaixiang.triage import grading, neardup
from kuaixiang.triage.models import Category, GradingRule

BAND_FIELDS = tuple(f"simhash_b{i}" for i in range(neardup.BANDS))
MAX_CANDIDATES = 500  # band hits read per lookup (a bucket of identical boilerplate texts is capped)
REPEAT_SCAN = 200  # earlier registrations of one phone compared with a new complaint, most recent first

_lock = threading.Lock()
_cache: dict[str, object] = {"stamp": None, "rules": []}


def active_rules() -> list[grading.Rule]:
    """The active grading rules, parsed and sorted; re-read when any rule is added, changed,
    (de)activated or deleted (one aggregate query per call). A rule stored with an invalid
    definition (only possible by writing the table directly) is skipped, never fatal."""
    stamp = tuple(
        GradingRule.objects.aggregate(
            n=Count("id"), active=Count("id", filter=Q(active=True)), m=Max("updated_at"), last=Max("id")
        ).values()
    )
    with _lock:
        if _cache["stamp"] == stamp:
            return _cache["rules"]  # type: ignore[return-value]
    rules = []
    for row in GradingRule.objects.filter(active=True):
        try:
            rules.append(grading.parse_rule(row.as_rule_dict(), row.code))
        except grading.GradingRuleError:
            continue
    rules.sort(key=lambda r: (r.priority, r.code))
    with _lock:
        _cache["stamp"], _cache["rules"] = stamp, rules
    return rules


def rules_forget(**_kwargs) -> None:
    """Drop the cached rules (connected to GradingRule saves and deletes in this process)."""
    with _lock:
        _cache["stamp"], _cache["rules"] = None, []


def fingerprint(complaints: list[Complaint]) -> None:
    """Set ``simhash`` and its band columns from the description (None when it has no letters or digits)."""
    for complaint in complaints:
        fp = neardup.simhash(complaint.description)
        if fp == 0 and not neardup.normalise(complaint.description):
            complaint.simhash = None
            for name in BAND_FIELDS:
                setattr(complaint, name, None)
            continue
        complaint.simhash = fp
        for name, value in zip(BAND_FIELDS, neardup.bands(fp), strict=True):
            setattr(complaint, name, value)


def band_candidates(open_complaints: QuerySet, values: list[set[int]], limit: int) -> list[tuple[int, str, int]]:
    """``(pk, number, simhash)`` of the complaints in ``open_complaints`` (which must be filtered
    to ``closed_at IS NULL``) whose band ``i`` is in ``values[i]`` for some ``i``, at most ``limit``.

    One UNION of four queries, one per band: each uses its partial index on the open complaints
    (an ``OR`` of the four would not, on SQLite).
    """
    parts = [
        open_complaints.filter(**{f"{name}__in": wanted}).values_list("pk", "number", "simhash")
        for name, wanted in zip(BAND_FIELDS, values, strict=True)
        if wanted
    ]
    if not parts:
        return []
    return list(parts[0].union(*parts[1:])[:limit])


def band_values(fps: list[int]) -> list[set[int]]:
    """For each band, the set of its values among ``fps``."""
    values: list[set[int]] = [set() for _ in BAND_FIELDS]
    for fp in fps:
        for wanted, value in zip(values, neardup.bands(fp), strict=True):
            wanted.add(value)
    return values


def subject_key(path: str | None, level: int) -> str | None:
    """The category path cut to ``level`` levels ("/1/5/9/" at level 2 → "/1/5/")."""
    if not path:
        return None
    parts = path.strip("/").split("/")[:level]
    return "/" + "/".join(parts) + "/"


def same_subject_category(a: str | None, b: str | None) -> bool:
    """Related subject keys: one is the other or an ancestor of it."""
    return bool(a and b and (a.startswith(b) or b.startswith(a)))


@dataclass
class _Prior:
    pk: int | None
    number: str
    phone: str
    received_at: object
    key: str | None
    simhash: int | None
    batch_index: int | None = None  # an earlier item of the same batch (no pk yet)


@dataclass
class _PhoneHistory:
    """One phone's earlier complaints: stored ones (by received time), then this batch's (in batch
    order, received times in any order); their received times are also kept sorted, for counting."""

    priors: list[_Prior] = field(default_factory=list)
    stored: int = 0  # priors[:stored] were read from the database
    times: list[datetime] = field(default_factory=list)

    def add(self, prior: _Prior) -> None:
        self.priors.append(prior)
        bisect.insort(self.times, prior.received_at)

    def count_since(self, since: datetime) -> int:
        """Earlier complaints received at or after ``since``."""
        return len(self.times) - bisect.bisect_left(self.times, since)

    def latest(self, since: datetime) -> Iterator[_Prior]:
        """The priors to compare, most recent registration first: of the last :data:`REPEAT_SCAN`
        registrations (stored ones received before ``since`` left out), those received since."""
        first = bisect.bisect_left(self.priors, since, hi=self.stored, key=attrgetter("received_at"))
        start = max(first, len(self.priors) - REPEAT_SCAN)
        return (prior for prior in reversed(self.priors[start:]) if prior.received_at >= since)


@dataclass
class Assessed:
    """What the caller must do after inserting: links to same-batch complaints (by index)."""

    pending: list[tuple[int, str, int]] = field(default_factory=list)  # (index, field, target index)


def _category_info(complaints: list[Complaint]) -> dict[int, tuple[str, frozenset[str]]]:
    ids = {c.category_id for c in complaints if c.category_id}
    if not ids:
        return {}
    paths = dict(Category.objects.filter(pk__in=ids).values_list("pk", "path"))
    ancestors = {int(p) for path in paths.values() for p in path.strip("/").split("/") if p}
    codes = dict(Category.objects.filter(pk__in=ancestors).values_list("pk", "code"))
    info = {}
    for pk, path in paths.items():
        chain = frozenset(codes[int(p)] for p in path.strip("/").split("/") if p and int(p) in codes)
        info[pk] = (path, chain)
    return info


def _grouped_counts(complaints: list[Complaint], fields: tuple[str, ...], days_set: frozenset[int]) -> dict:
    """{days: {key: count}} of stored complaints received in the last ``days`` before the newest,
    grouped by ``fields`` (key: the tuple of their values), for the keys of ``complaints``."""
    first = fields[0]
    values = {getattr(c, first) for c in complaints} - {None, ""}
    if not values:
        return {days: {} for days in days_set}
    latest = max(c.received_at for c in complaints)
    result: dict[int, dict] = {}
    for days in days_set:
        rows = (
            Complaint.objects.filter(**{f"{first}__in": values}, received_at__gte=latest - timedelta(days=days))
            .values(*fields)
            .annotate(n=Count("id"))
            .values_list(*fields, "n")
        )
        result[days] = {tuple(row[:-1]): row[-1] for row in rows}
    return result


def _subject_key(complaint: Complaint) -> tuple | None:
    """Same subject for group counts: the same 被投诉对象 (project, batch, campus …) and category."""
    return (complaint.subject, complaint.category_id) if complaint.subject else None


def triage_assess(complaints: list[Complaint], *, now) -> Assessed:
    """Fingerprint, link and grade ``complaints`` (unsaved, in registration order) in place."""
    rules = active_rules()
    need = grading.needs(rules)
    level = settings.KX_REPEAT_CATEGORY_LEVEL
    repeat_days = settings.KX_REPEAT_WINDOW_DAYS
    fingerprint(complaints)
    categories = _category_info(complaints)

    # Recent complaints by the same phones (repeat detection and phone history counts).
    phones = {c.complainant_phone for c in complaints if c.complainant_phone}
    phone_window = max([repeat_days, *need.phone_days])
    by_phone: dict[str, _PhoneHistory] = defaultdict(_PhoneHistory)
    if phones:
        earliest = min(c.received_at for c in complaints) - timedelta(days=phone_window)
        rows = (
            Complaint.objects.filter(complainant_phone__in=phones, received_at__gte=earliest)
            .order_by("-received_at", "-id")
            .values_list("pk", "number", "complainant_phone", "received_at", "category__path", "simhash")[:5000]
        )
        for pk, number, phone, received_at, path, fp in list(rows)[::-1]:  # the newest 5,000, oldest first
            by_phone[phone].add(_Prior(pk, number, phone, received_at, subject_key(path, level), fp))
        for history in by_phone.values():
            history.stored = len(history.priors)

    # Open complaints sharing a band with any of the new fingerprints (near-duplicates).
    open_index = neardup.SimHashIndex()
    numbers: dict[int, str] = {}
    fps = [c.simhash for c in complaints if c.simhash is not None]
    if fps:
        open_complaints = Complaint.objects.filter(closed_at__isnull=True)
        for pk, number, fp in band_candidates(open_complaints, band_values(fps), MAX_CANDIDATES * len(fps)):
            open_index.add(pk, fp)
            numbers[pk] = number

    subject_counts = (
        _grouped_counts(complaints, ("subject", "category_id"), need.subject_days) if need.subject_days else {}
    )
    category_counts = _grouped_counts(complaints, ("category_id",), need.category_days) if need.category_days else {}

    assessed = Assessed()
    batch_index = neardup.SimHashIndex()
    for index, complaint in enumerate(complaints):
        path, chain = categories.get(complaint.category_id, (None, frozenset()))
        key = subject_key(path, level)
        phone = complaint.complainant_phone
        received = complaint.received_at
        history = by_phone.get(phone) if phone else None

        # Repeat: the most recent earlier complaint by this phone about the same subject.
        repeat: _Prior | None = None
        for prior in history.latest(received - timedelta(days=repeat_days)) if history else ():
            near = (
                complaint.simhash is not None
                and prior.simhash is not None
                and neardup.hamming(complaint.simhash, prior.simhash) <= neardup.MAX_DISTANCE
            )
            if near or same_subject_category(key, prior.key):
                repeat = prior
                break
        phone_counts = {
            days: 1 + (history.count_since(received - timedelta(days=days)) if history else 0)
            for days in need.phone_days
        }

        # Near-duplicate: nearest open complaint, stored or earlier in this batch.
        duplicate: tuple[int, int, bool] | None = None  # (distance, pk or batch index, in batch)
        if complaint.simhash is not None:
            for pk, distance in open_index.near(complaint.simhash):
                if duplicate is None or (distance, pk) < duplicate[:2]:
                    duplicate = (distance, pk, False)
            for other, distance in batch_index.near(complaint.simhash):
                if duplicate is None or distance < duplicate[0]:
                    duplicate = (distance, other, True)

        grading_record: dict = {}
        complaint.repeat_of = complaint.duplicate_of = None
        if repeat is not None:
            grading_record["repeat_of"] = repeat.number or None
            if repeat.batch_index is None:
                complaint.repeat_of_id = repeat.pk
            else:
                assessed.pending.append((index, "repeat_of", repeat.batch_index))
        if duplicate is not None:
            distance, target, in_batch = duplicate
            grading_record["duplicate_distance"] = distance
            if in_batch:
                assessed.pending.append((index, "duplicate_of", target))
            else:
                complaint.duplicate_of_id = target
                grading_record["duplicate_of"] = numbers[target]

        facts = grading.Facts(
            text=grading.normalise_text(" ".join((complaint.subject, complaint.description, complaint.appeal))),
            description=complaint.description,
            channel=complaint.channel,
            amount=complaint.amount_claimed,
            anonymous=complaint.anonymous,
            has_phone=bool(phone),
            category_codes=chain,
            repeat=repeat is not None,
            phone_counts=phone_counts,
            subject_counts={days: 1 + counts.get(_subject_key(complaint), 0) for days, counts in subject_counts.items()}
            if complaint.subject
            else {},
            category_counts={
                days: 1 + counts.get((complaint.category_id,), 0) for days, counts in category_counts.items()
            }
            if complaint.category_id
            else {},
        )
        verdict = grading.grade(rules, facts, severity=complaint.severity)
        complaint.severity = verdict.severity
        complaint.intent = verdict.intent
        complaint.request_type = verdict.request_type
        complaint.validity = verdict.validity
        complaint.validity_reason = verdict.validity_reason
        complaint.flags = verdict.flags
        grading_record["rules"] = verdict.matched
        grading_record["graded_at"] = (complaint.created_at or now).isoformat()
        complaint.grading = grading_record

        # Later items of the batch see this one: as a prior of its phone, in counts, as an open text.
        if phone:
            by_phone[phone].add(_Prior(None, "", phone, received, key, complaint.simhash, batch_index=index))
        if complaint.subject:
            for counts in subject_counts.values():
                counts[_subject_key(complaint)] = counts.get(_subject_key(complaint), 0) + 1
        if complaint.category_id:
            for counts in category_counts.values():
                counts[(complaint.category_id,)] = counts.get((complaint.category_id,), 0) + 1
        if complaint.simhash is not None:
            batch_index.add(index, complaint.simhash)
    return assessed


def links_apply(complaints: list[Complaint], assessed: Assessed) -> None:
    """After the insert: point same-batch repeat/duplicate links at the now-saved complaints."""
    if not assessed.pending:
        return
    changed: dict[int, Complaint] = {}
    for index, field_name, target in assessed.pending:
        complaint, other = complaints[index], complaints[target]
        setattr(complaint, f"{field_name}_id", other.pk)
        complaint.grading[field_name] = other.number
        changed[index] = complaint
    Complaint.objects.bulk_update(list(changed.values()), ["repeat_of", "duplicate_of", "grading"])


def classifier_note(complaint: Complaint) -> None:
    """Record the classifier's top category next to the agent's choice in ``grading["classifier"]``
    (single registrations, when ``KX_CLASSIFIER_MODEL`` is set): ``agreed`` false marks a correction,
    and ``train_classifier --from-db`` learns from the complaints' final categories."""
    from kuaixiang.triage.selectors import category_suggestions

    top = category_suggestions(complaint.description, k=1)
    if top:
        complaint.grading["classifier"] = {
            "category_id": top[0].category_id,
            "label": top[0].label,
            "confidence": top[0].confidence,
            "agreed": top[0].category_id == complaint.category_id,
        }
