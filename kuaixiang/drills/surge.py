"""Synthetic surges for drills (pure, no Django): a background stream plus a burst in one category.

:func:`surge_rows` returns rows in the shape ``kuaixiang.alerts.replay.replay_rows`` reads
(``received_at`` ISO 8601 with offset, ``channel``, ``category`` path, ``text``, ``phone``), sorted by
time and ending at ``end``. The same ``seed`` gives the same rows.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

CHANNELS = ("phone", "phone", "phone", "web", "app", "weibo", "letter")


@dataclass(frozen=True)
class SurgeSpec:
    """``hours`` of background at ``background_per_hour`` across ``background_categories``, and
    ``burst`` complaints in ``burst_category`` during the last ``burst_minutes`` minutes."""

    burst_category: str
    background_categories: tuple[str, ...]
    hours: int = 3
    background_per_hour: int = 20
    burst: int = 120
    burst_minutes: int = 60


def surge_rows(
    spec: SurgeSpec,
    *,
    end: datetime,
    burst_texts: Sequence[str],
    background_texts: Sequence[str],
    seed: int = 0,
) -> list[dict]:
    """The rows of ``spec`` ending at ``end`` (aware). Burst texts get a varying tail so that they
    are similar, not identical; phones are random mobile numbers so complainants differ."""
    if not burst_texts or not background_texts:
        raise ValueError("texts are empty")
    if not spec.background_categories and spec.background_per_hour:
        raise ValueError("no background categories")
    rng = random.Random(seed)  # noqa: S311 - synthetic test data, not security
    rows: list[tuple[datetime, dict]] = []
    span = timedelta(hours=spec.hours).total_seconds()
    for _ in range(spec.hours * spec.background_per_hour):
        at = end - timedelta(seconds=rng.uniform(0, span))
        rows.append((at, _row(at, rng.choice(spec.background_categories), rng.choice(background_texts), rng)))
    burst_span = timedelta(minutes=spec.burst_minutes).total_seconds()
    tails = ("", "，请尽快处理", "，已经影响工作", "，周围人都一样", "，多次打客服电话没用", "，要求给个说法")
    for _ in range(spec.burst):
        # Arrivals bunch towards the end of the burst window, as a spreading outage does.
        at = end - timedelta(seconds=burst_span * (1 - rng.random() ** 0.5))
        text = rng.choice(burst_texts) + rng.choice(tails)
        rows.append((at, _row(at, spec.burst_category, text, rng)))
    rows.sort(key=lambda r: r[0])
    return [r for _, r in rows]


def _row(at: datetime, category: str, text: str, rng: random.Random) -> dict:
    phone = rng.choice(("133", "153", "180", "189", "199", "177")) + f"{rng.randrange(10**8):08d}"
    return {
        "received_at": at.replace(microsecond=0).isoformat(),
        "channel": rng.choice(CHANNELS),
        "category": category,
        "text": text[:500],
        "phone": phone,
    }
