"""Synthetic surge generator: background plus a burst, deterministic by seed, replayable rows."""

from collections import Counter
from datetime import datetime, timedelta

import pytest

from kuaixiang.alerts.replay import parse_channel, parse_time
from kuaixiang.drills.surge import SurgeSpec, surge_rows
from tests.drills.conftest import START

SPEC = SurgeSpec("A/B/C/D/E", ("X/1", "Y/2"), hours=2, background_per_hour=10, burst=50, burst_minutes=30)


def test_rows_have_the_replay_shape_and_end_at_end():
    rows = surge_rows(SPEC, end=START, burst_texts=["没有信号"], background_texts=["乱扣费"], seed=1)
    assert len(rows) == 2 * 10 + 50
    times = [parse_time(r["received_at"]) for r in rows]
    assert times == sorted(times)
    assert max(times) <= START and min(times) >= START - timedelta(hours=2)
    for row in rows:
        parse_channel(row["channel"])
        assert len(row["phone"]) == 11
    counts = Counter(r["category"] for r in rows)
    assert counts["A/B/C/D/E"] == 50 and counts["X/1"] + counts["Y/2"] == 20
    burst_times = [t for t, r in zip(times, rows, strict=True) if r["category"] == "A/B/C/D/E"]
    assert min(burst_times) >= START - timedelta(minutes=30)


def test_same_seed_same_rows_other_seed_other_rows():
    make = lambda seed: surge_rows(SPEC, end=START, burst_texts=["a", "b"], background_texts=["c"], seed=seed)  # noqa: E731
    assert make(3) == make(3)
    assert make(3) != make(4)


def test_refuses_empty_texts():
    with pytest.raises(ValueError):
        surge_rows(SPEC, end=datetime.now(tz=START.tzinfo), burst_texts=[], background_texts=["x"])
