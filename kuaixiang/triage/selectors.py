"""Reads for triage: similar open complaints (while registering) and category suggestions."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db.models import Q

from kuaixiang.complaints.models import Complaint
from kuaixiang.complaints.phone import normalise_phone
from kuaixiang.errors import InvalidInput
from kuaixiang.org.scope import scope_for
from kuaixiang.triage import neardup
from kuaixiang.triage.assess import MAX_CANDIDATES, band_candidates, band_values
from kuaixiang.triage.classifier import ClassifierError, load_cached
from kuaixiang.triage.models import Category

logger = logging.getLogger(__name__)
SIMILAR_LIMIT = 10
MAX_QUERY_TEXT = 10_000
SIMILAR_FIELDS = ("pk", "number", "status", "received_at", "description", "complainant_phone", "simhash")


@dataclass(frozen=True)
class Similar:
    id: int
    number: str
    status: str
    received_at: object
    summary: str
    same_phone: bool
    distance: int | None  # Hamming distance of the description fingerprints, None when not near


def similar_open(user, *, text: str = "", phone: str = "", limit: int = SIMILAR_LIMIT) -> list[Similar]:
    """Open complaints in the user's scope from the same phone, or whose description is a
    near-duplicate of ``text`` (SimHash within 3 bits, looked up by indexed band), nearest
    first, then same phone, then newest. Three indexed queries at most (band candidates, the
    nearest in full, the phone's); ``phone`` that is not a valid number is ignored (the agent
    may still be typing it)."""
    if len(text) > MAX_QUERY_TEXT:
        raise InvalidInput("text_too_long", f"文本过长，最多 {MAX_QUERY_TEXT} 个字符")
    try:
        phone = normalise_phone(phone) if phone.strip() else ""
    except InvalidInput:
        phone = ""
    base = Complaint.objects.filter(scope_for(user).complaint_filter(), closed_at__isnull=True)
    found: dict[int, Similar] = {}
    fp = neardup.simhash(text) if neardup.normalise(text) else None
    if fp is not None:
        # Candidates by band (ids and fingerprints only), then the nearest ones in full.
        candidates = band_candidates(base, band_values([fp]), MAX_CANDIDATES)
        near = sorted(
            (d, -pk) for pk, _, other in candidates if (d := neardup.hamming(fp, other)) <= neardup.MAX_DISTANCE
        )[:limit]
        distances = {-negative_pk: d for d, negative_pk in near}
        if distances:
            for row in Complaint.objects.filter(pk__in=distances).values_list(*SIMILAR_FIELDS):
                found[row[0]] = _similar(row, phone, distances[row[0]])
    if phone:
        rows = base.filter(complainant_phone=phone).order_by("-received_at").values_list(*SIMILAR_FIELDS)[:limit]
        for row in rows:
            if row[0] not in found:
                distance = neardup.hamming(fp, row[-1]) if fp is not None and row[-1] is not None else None
                near = distance if distance is not None and distance <= neardup.MAX_DISTANCE else None
                found[row[0]] = _similar(row, phone, near)
    ranked = sorted(
        found.values(),
        key=lambda s: (s.distance if s.distance is not None else 99, not s.same_phone, -s.received_at.timestamp()),
    )
    return ranked[:limit]


def _similar(row: tuple, phone: str, distance: int | None) -> Similar:
    pk, number, status, received_at, description, row_phone, _fp = row
    summary = description[:60] + ("…" if len(description) > 60 else "")
    return Similar(pk, number, status, received_at, summary, bool(phone) and row_phone == phone, distance)


# ---------------------------------------------------------------- category suggestions


@dataclass(frozen=True)
class CategorySuggestion:
    category_id: int
    name: str
    label: str
    confidence: float


def classifier_path() -> Path | None:
    """The configured model file (``KX_CLASSIFIER_MODEL``), or None when unset or missing."""
    configured = settings.KX_CLASSIFIER_MODEL
    if not configured:
        return None
    path = Path(configured)
    return path if path.is_file() else None


def category_suggestions(text: str, k: int = 3) -> list[CategorySuggestion]:
    """Top ``k`` active categories for ``text`` from the configured classifier, best first.

    The model's labels are matched to categories by code, then by full name ("网络质量 /
    移动网络"), then by name when that name is unique; labels without a category are skipped.
    No model configured, a missing file, or a file that cannot be loaded (logged) give []:
    registration never fails because of the classifier. The file is reloaded when it changes.
    """
    path = classifier_path()
    if path is None or not neardup.normalise(text):
        return []
    try:
        model = load_cached(path)
    except ClassifierError as exc:
        logger.warning("classifier model %s not usable: %s", path, exc.en)
        return []
    suggestions = model.suggest(text, k=max(k * 3, k))
    labels = [s.label for s in suggestions]
    rows = Category.objects.filter(active=True).filter(
        Q(code__in=labels) | Q(full_name__in=labels) | Q(name__in=labels)
    )
    by_code: dict[str, tuple[int, str]] = {}
    by_full: dict[str, tuple[int, str]] = {}
    by_name: dict[str, list[tuple[int, str]]] = {}
    for c in rows.values_list("pk", "code", "full_name", "name"):
        by_code[c[1]] = (c[0], c[2])
        by_full[c[2]] = (c[0], c[2])
        by_name.setdefault(c[3], []).append((c[0], c[2]))
    unique_names = {name: hits[0] for name, hits in by_name.items() if len(hits) == 1}
    out: list[CategorySuggestion] = []
    seen: set[int] = set()
    for s in suggestions:
        hit = by_code.get(s.label) or by_full.get(s.label) or unique_names.get(s.label)
        if hit is None or hit[0] in seen:
            continue
        seen.add(hit[0])
        out.append(CategorySuggestion(hit[0], hit[1], s.label, round(float(s.confidence), 4)))
        if len(out) == k:
            break
    return out
