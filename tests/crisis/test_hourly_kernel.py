"""The hourly-series kernel: counts per hour, change and percent against the previous hour."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kuaixiang.crisis.hourly import HOUR, MAX_HOURS, hour_floor, hourly_series, series_window

T0 = datetime(2025, 9, 30, 2, 0, tzinfo=UTC)


def test_each_hour_is_compared_with_the_one_before():
    counts = {T0 - HOUR: 4, T0: 10, T0 + HOUR: 5, T0 + 3 * HOUR: 2}
    series = hourly_series(counts, T0, T0 + 3 * HOUR)
    assert [(f.count, f.change, f.percent) for f in series] == [
        (10, 6, 150.0),
        (5, -5, -50.0),
        (0, -5, -100.0),
        (2, 2, None),  # the hour before had nothing: no percentage
    ]


def test_hour_floor_needs_an_aware_instant_and_works_across_zones():
    local = datetime(2025, 9, 30, 10, 59, 59, tzinfo=__import__("zoneinfo").ZoneInfo("Asia/Shanghai"))
    assert hour_floor(local) == datetime(2025, 9, 30, 2, tzinfo=UTC)
    with pytest.raises(ValueError):
        hour_floor(datetime(2025, 9, 30, 10))  # noqa: DTZ001


def test_the_window_runs_from_activation_to_close_or_now_and_is_capped():
    first, last = series_window(T0 + timedelta(minutes=20), T0 + timedelta(hours=5, minutes=1), T0 + timedelta(days=3))
    assert (first, last) == (T0, T0 + 5 * HOUR)
    first, last = series_window(T0, None, T0 + timedelta(days=400))
    assert (last - first) / HOUR == MAX_HOURS - 1


@given(st.dictionaries(st.integers(-1, 30), st.integers(0, 500), max_size=30), st.integers(0, 30))
def test_changes_add_up_to_the_difference_between_last_hour_and_baseline(raw, length):
    counts = {T0 + i * HOUR: n for i, n in raw.items()}
    series = hourly_series(counts, T0, T0 + length * HOUR)
    assert len(series) == length + 1
    assert [f.count for f in series] == [counts.get(T0 + i * HOUR, 0) for i in range(length + 1)]
    assert sum(f.change for f in series) == series[-1].count - counts.get(T0 - HOUR, 0)
    for before, after in zip([counts.get(T0 - HOUR, 0)] + [f.count for f in series], series, strict=False):
        assert (after.percent is None) == (before == 0)
