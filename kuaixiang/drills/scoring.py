"""Drill scoring (pure, no Django): each playbook step against its deadline, and the drill overall.

A step is scored at the end of the drill (``end``, drill time):

* ``met`` — done at or before its deadline: 100 points;
* ``late`` — done after its deadline: ``50 × max(0, 1 − late / allowed)`` points, where ``allowed``
  is the time the step had (deadline − start of its clock); a step late by its whole allowance or
  more scores 0 but still counts as done late;
* ``missed`` — not done and its deadline has passed at ``end``: 0 points;
* ``open`` — not done, deadline still ahead at ``end``: not scored;
* ``unscored`` — no deadline (its clock never started, e.g. a step counted from closing when the
  incident was not closed): not scored.

The overall score is the mean of the scored steps' points, rounded to one decimal; ``None`` when
no step was scored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

MET, LATE, MISSED, OPEN, UNSCORED = "met", "late", "missed", "open", "unscored"
SCORED = frozenset({MET, LATE, MISSED})


@dataclass(frozen=True)
class StepScore:
    outcome: str
    late_by: timedelta | None  # how late (done late, or missed: from the deadline to ``end``)
    points: float | None


def step_score(*, start: datetime, due: datetime | None, done: datetime | None, end: datetime) -> StepScore:
    """Score one step whose clock started at ``start`` with deadline ``due``, done at ``done``
    (None when not done), judged at ``end``."""
    if due is None:
        return StepScore(UNSCORED, None, None)
    if done is not None and done <= due:
        return StepScore(MET, None, 100.0)
    if done is not None:
        late = done - due
        allowed = max(due - start, timedelta(minutes=1))
        return StepScore(LATE, late, round(50.0 * max(0.0, 1.0 - late / allowed), 1))
    if end > due:
        return StepScore(MISSED, end - due, 0.0)
    return StepScore(OPEN, None, None)


def drill_score(scores: Sequence[StepScore]) -> float | None:
    """Mean points of the scored steps (one decimal), or None when none was scored."""
    points = [s.points for s in scores if s.outcome in SCORED and s.points is not None]
    return round(sum(points) / len(points), 1) if points else None


def drill_clock(*, origin: datetime, started: datetime, now: datetime, speed: float, skipped: timedelta) -> datetime:
    """Drill time at real instant ``now``: ``origin`` (the incident's activation) plus the real time
    since ``started`` multiplied by ``speed``, plus what participants skipped ahead."""
    return origin + skipped + (now - started) * speed
