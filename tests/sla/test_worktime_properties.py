"""Properties of the kernel on the `cn` calendar, for starts anywhere in 2024 – mid 2026."""

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from kuaixiang.sla.worktime import Unit
from tests.sla.conftest import CN, SH

ZONES = [SH, UTC, timezone(timedelta(hours=-5)), ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")]

starts = st.builds(
    lambda naive, zone: naive.replace(tzinfo=UTC).astimezone(zone),
    st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2026, 6, 30)),  # noqa: DTZ001
    st.sampled_from(ZONES),
)
TIME_UNITS = [Unit.WORKING_HOURS, Unit.WORKING_MINUTES, Unit.CLOCK_HOURS, Unit.CLOCK_MINUTES]
DAY_UNITS = [Unit.WORKING_DAYS, Unit.NATURAL_DAYS]
LIMIT = {
    Unit.WORKING_HOURS: 400,
    Unit.WORKING_MINUTES: 20_000,
    Unit.CLOCK_HOURS: 2_000,
    Unit.CLOCK_MINUTES: 100_000,
    Unit.WORKING_DAYS: 60,
    Unit.NATURAL_DAYS: 90,
}
PER_UNIT = {Unit.WORKING_HOURS: timedelta(hours=1), Unit.WORKING_MINUTES: timedelta(minutes=1)}


@st.composite
def unit_and_amounts(draw):
    unit = draw(st.sampled_from(TIME_UNITS + DAY_UNITS))
    a = draw(st.integers(0, LIMIT[unit]))
    b = draw(st.integers(0, LIMIT[unit]))
    return unit, min(a, b), max(a, b)


@settings(max_examples=400, deadline=None)
@given(start=starts, case=unit_and_amounts(), roll=st.booleans())
def test_the_due_instant_is_monotone_in_the_amount(start, case, roll):
    unit, small, large = case
    assert CN.add(start, small, unit, holiday_roll=roll) <= CN.add(start, large, unit, holiday_roll=roll)


@settings(max_examples=400, deadline=None)
@given(start=starts, case=unit_and_amounts(), roll=st.booleans())
def test_the_due_instant_is_never_before_the_start_and_is_in_shanghai(start, case, roll):
    unit, _, amount = case
    due = CN.add(start, amount, unit, holiday_roll=roll)
    assert due >= start
    assert due.utcoffset() == timedelta(hours=8)


@settings(max_examples=400, deadline=None)
@given(start=starts, unit=st.sampled_from([Unit.WORKING_HOURS, Unit.WORKING_MINUTES]), amount=st.integers(0, 400))
def test_elapsed_inverts_add_for_working_time(start, unit, amount):
    due = CN.add(start, amount, unit)
    assert CN.elapsed(start, due) == amount * PER_UNIT[unit]


@settings(max_examples=200, deadline=None)
@given(start=starts, amount=st.integers(0, 100_000))
def test_elapsed_inverts_add_for_clock_time(start, amount):
    assert CN.elapsed(start, CN.add(start, amount, "clock_minutes"), clock=True) == timedelta(minutes=amount)


@settings(max_examples=300, deadline=None)
@given(start=starts, first=st.integers(1, 200), second=st.integers(1, 200))
def test_working_time_adds_up(start, first, second):
    middle = CN.add(start, first, "working_minutes")
    assert CN.add(middle, second, "working_minutes") == CN.add(start, first + second, "working_minutes")


@settings(max_examples=300, deadline=None)
@given(start=starts, amount=st.integers(1, 300))
def test_working_time_ends_inside_business_hours(start, amount):
    due = CN.add(start, amount, "working_minutes")
    info = CN.day(due.date())
    seconds = due.hour * 3600 + due.minute * 60 + due.second + due.microsecond / 1e6
    assert info.working
    assert any(a < seconds <= b for a, b in info.hours)


@settings(max_examples=300, deadline=None)
@given(start=starts, days=st.integers(1, 60))
def test_n_working_days_end_on_the_nth_working_day_after_the_start_day(start, days):
    due = CN.add(start, days, "working_days")
    assert (due.hour, due.minute, due.second) == (23, 59, 59)
    first = start.astimezone(SH).date() + timedelta(days=1)
    span = [first + timedelta(days=i) for i in range((due.date() - first).days + 1)]
    working = [d for d in span if CN.is_working_day(d)]
    assert len(working) == days
    assert working[-1] == due.date()


@settings(max_examples=200, deadline=None)
@given(start=starts, days=st.integers(0, 90))
def test_holiday_roll_only_moves_a_holiday_end_to_the_next_working_day(start, days):
    plain = CN.add(start, days, "natural_days")
    rolled = CN.add(start, days, "natural_days", holiday_roll=True)
    if CN.day(plain.date()).kind == "holiday":
        assert rolled.date() == CN.next_working_day(plain.date())
    else:
        assert rolled == plain


@settings(max_examples=200, deadline=None)
@given(start=starts, end=starts, pause=st.tuples(starts, starts))
def test_pauses_never_add_time_and_elapsed_is_antisymmetric(start, end, pause):
    p = (min(pause), max(pause))
    assert abs(CN.elapsed(start, end, pauses=[p])) <= abs(CN.elapsed(start, end))
    assert CN.elapsed(start, end) == -CN.elapsed(end, start)
