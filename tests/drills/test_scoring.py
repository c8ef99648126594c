"""Drill scoring kernel: met / late / missed / open / unscored and the overall score."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from kuaixiang.drills.scoring import (
    LATE,
    MET,
    MISSED,
    OPEN,
    UNSCORED,
    StepScore,
    drill_clock,
    drill_score,
    step_score,
)

T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def test_each_outcome():
    due = T0 + HOUR
    assert step_score(start=T0, due=due, done=T0 + 30 * timedelta(minutes=1), end=T0 + 5 * HOUR).outcome == MET
    late = step_score(start=T0, due=due, done=due + timedelta(minutes=30), end=T0 + 5 * HOUR)
    assert (late.outcome, late.late_by, late.points) == (LATE, timedelta(minutes=30), 25.0)
    missed = step_score(start=T0, due=due, done=None, end=due + 2 * HOUR)
    assert (missed.outcome, missed.late_by, missed.points) == (MISSED, 2 * HOUR, 0.0)
    assert step_score(start=T0, due=due, done=None, end=T0 + timedelta(minutes=10)).outcome == OPEN
    assert step_score(start=T0, due=None, done=None, end=T0 + HOUR).outcome == UNSCORED
    # Done exactly at the deadline is in time; late by the whole allowance or more scores 0.
    assert step_score(start=T0, due=due, done=due, end=due).points == 100.0
    assert step_score(start=T0, due=due, done=due + 3 * HOUR, end=due + 3 * HOUR).points == 0.0


@given(st.integers(1, 10_000), st.integers(0, 100_000))
def test_late_points_fall_with_lateness_and_stay_between_0_and_50(allowed_minutes, late_minutes):
    due = T0 + timedelta(minutes=allowed_minutes)
    a = step_score(start=T0, due=due, done=due + timedelta(minutes=late_minutes + 1), end=due)
    b = step_score(start=T0, due=due, done=due + timedelta(minutes=late_minutes + 2), end=due)
    assert 0 <= b.points <= a.points <= 50


def test_overall_score_is_the_mean_of_scored_steps():
    scores = [StepScore(MET, None, 100.0), StepScore(LATE, HOUR, 25.0), StepScore(MISSED, HOUR, 0.0)]
    assert drill_score([*scores, StepScore(OPEN, None, None), StepScore(UNSCORED, None, None)]) == 41.7
    assert drill_score([StepScore(OPEN, None, None)]) is None


@given(st.floats(1, 3600), st.integers(0, 86_400), st.integers(0, 86_400))
def test_the_drill_clock_runs_speed_times_real_time_plus_skips(speed, real_seconds, skipped_seconds):
    now = drill_clock(
        origin=T0,
        started=T0,
        now=T0 + timedelta(seconds=real_seconds),
        speed=speed,
        skipped=timedelta(seconds=skipped_seconds),
    )
    expected = T0 + timedelta(seconds=real_seconds * speed + skipped_seconds)
    assert abs((now - expected).total_seconds()) < 0.01
