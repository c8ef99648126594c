"""The pure roster kernel: shift windows, rotation plans, coverage gaps (with hypothesis)."""

from collections import Counter
from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kuaixiang.clock import SHANGHAI
from kuaixiang.org.rotation import (
    DAY_HOLIDAY,
    DAY_WEEKEND,
    DAY_WORKING,
    TemplateSpec,
    Window,
    coverage_gaps,
    rotation_plan,
    shift_window,
)

DAY_TYPES = st.sampled_from([DAY_WORKING, DAY_WEEKEND, DAY_HOLIDAY])


def test_shift_window_crosses_midnight_and_equal_times_mean_24_hours():
    start, end = shift_window(date(2026, 11, 23), time(17, 30), time(8, 30), SHANGHAI)
    assert end - start == timedelta(hours=15)
    start, end = shift_window(date(2026, 11, 23), time(8, 0), time(8, 0), SHANGHAI)
    assert end - start == timedelta(hours=24)
    start, end = shift_window(date(2026, 11, 23), time(8, 30), time(17, 30), SHANGHAI)
    assert (start.hour, end.hour, end.date()) == (8, 17, date(2026, 11, 23))


@given(
    st.lists(DAY_TYPES, min_size=1, max_size=40),
    st.lists(st.tuples(st.sampled_from(["all", "working", "off"]), st.integers(1, 3)), min_size=1, max_size=3),
    st.integers(1, 8),
    st.integers(1, 7),
)
def test_rotation_fills_every_applicable_seat_and_never_doubles_a_person_when_enough_people(kinds, specs, extra, block):
    days = [(date(2026, 1, 1) + timedelta(days=i), kind) for i, kind in enumerate(kinds)]
    templates = [TemplateSpec(i, d, seats) for i, (d, seats) in enumerate(specs)]
    seats_per_day = sum(t.seats for t in templates)
    people = list(range(100, 100 + seats_per_day + extra - 1))
    plan = rotation_plan(days, templates, people, block_days=block)
    expected = 0
    for _, kind in days:
        for t in templates:
            applies = t.days == "all" or (t.days == "working") == (kind == DAY_WORKING)
            expected += t.seats if applies else 0
    assert len(plan) == expected
    per_day = Counter((s.day, s.person) for s in plan)
    assert max(per_day.values(), default=1) == 1
    assert {s.person for s in plan} <= set(people)


@given(st.integers(1, 6), st.integers(1, 5))
def test_rotation_repeats_every_len_people_blocks(n, block):
    days = [(date(2026, 1, 1) + timedelta(days=i), DAY_WORKING) for i in range(n * block * 2)]
    plan = rotation_plan(days, [TemplateSpec(1, "all", 1)], list(range(n)), block_days=block)
    persons = [s.person for s in plan]
    assert persons[: n * block] == persons[n * block :]
    # Each person holds the seat for exactly ``block`` days per cycle.
    assert Counter(persons[: n * block]) == dict.fromkeys(range(n), block)


def test_rotation_refuses_no_people_and_bad_blocks():
    with pytest.raises(ValueError):
        rotation_plan([(date(2026, 1, 1), DAY_WORKING)], [TemplateSpec(1, "all", 1)], [])
    with pytest.raises(ValueError):
        rotation_plan([(date(2026, 1, 1), DAY_WORKING)], [TemplateSpec(1, "all", 1)], [1], block_days=0)


def test_coverage_counts_distinct_people_on_fully_covering_shifts():
    t0 = datetime(2026, 1, 1, 8, tzinfo=SHANGHAI)
    window = Window("w", t0, t0 + timedelta(hours=9), 2)
    full = (t0 - timedelta(hours=1), t0 + timedelta(hours=10), 1)
    partial = (t0 + timedelta(hours=1), t0 + timedelta(hours=9), 2)
    assert coverage_gaps([window], [full, partial]) == [(window, 1)]
    assert coverage_gaps([window], [full, (t0, t0 + timedelta(hours=9), 2)]) == []
    assert coverage_gaps([window], [full, full]) == [(window, 1)]
