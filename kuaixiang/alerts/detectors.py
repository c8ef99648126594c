"""Surge detectors (pure: no Django). Counts are complaints per hour unless said otherwise.

Three detectors, each a small function of counts the caller already has:

* :func:`same_hour_ratio` — the last 60 minutes against the same hour of recent weeks
  (:func:`same_hour_baseline`), smoothed with a prior of one complaint so that 0 → 2 is not "∞".
* :func:`hour_change` — the last 60 minutes against the 60 minutes before.
* :class:`PoissonCusum` — a one-sided Poisson CUSUM (Page 1954; Lucas 1985) on minute counts
  against the scope's expected rate, designed for a ``ratio``-fold rise. Its threshold comes from
  the stated mean time between false alarms (:func:`cusum_threshold`, Siegmund's approximation
  ``ARL0 ≈ (e^h − h − 1) / KL``); the benchmark measures the rate actually reached.

:func:`same_hour_baseline` estimates the expected rate of an hour from the same hour of the week in
the previous ``weeks`` weeks (± ``spread`` neighbouring hours), so daily and weekly cycles are part of
the baseline instead of firing every Monday morning.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

HOURS_PER_WEEK = 168
MIN_RATE = 0.25  # complaints/hour: a floor for scopes that were silent in the history


def same_hour_baseline(
    count_at: Callable[[int], float | None], hour: int, *, weeks: int = 4, spread: int = 1
) -> float | None:
    """Expected complaints per hour for hour index ``hour``: the mean of ``count_at(hour − 168·w + d)``
    for w in 1..weeks and d in −spread..spread, over the hours for which ``count_at`` returns a number
    (None = no history there). Return None when there is no history at all."""
    values = []
    for w in range(1, weeks + 1):
        for d in range(-spread, spread + 1):
            value = count_at(hour - HOURS_PER_WEEK * w + d)
            if value is not None:
                values.append(float(value))
    if not values:
        return None
    return sum(values) / len(values)


def same_hour_ratio(observed: float, expected: float, *, prior: float = 1.0) -> float:
    """(observed + prior) / (expected + prior): ≥ 1 means more than usual for this hour."""
    return (max(observed, 0.0) + prior) / (max(expected, 0.0) + prior)


def hour_change(current: float, previous: float, *, prior: float = 1.0) -> float:
    """(current + prior) / (previous + prior): the change against the previous hour as a ratio."""
    return (max(current, 0.0) + prior) / (max(previous, 0.0) + prior)


def rolling_hour(current_hour: float, previous_hour: float, minute: int) -> float:
    """Complaints in (about) the last 60 minutes at ``minute`` of the current hour, assuming the
    previous hour's complaints spread evenly over it."""
    fraction = min(max(minute, 0), 60) / 60
    return current_hour + previous_hour * (1 - fraction)


def cusum_threshold(*, rate: float, ratio: float, arl_hours: float) -> float:
    """The CUSUM decision threshold h (nats) giving a mean time between false alarms of about
    ``arl_hours`` at a steady ``rate`` (complaints/hour) for a CUSUM designed for ``ratio``-fold."""
    if ratio <= 1 or arl_hours <= 0:
        raise ValueError("ratio must exceed 1 and arl_hours be positive")
    rate = max(rate, MIN_RATE)
    kl = rate * (ratio - 1 - math.log(ratio))  # per hour, under the normal rate
    target = arl_hours * kl + 1
    # Solve e^h − h − 1 = arl·KL by Newton from a safe start; the left side is convex increasing.
    h = max(math.log(target + 1), 1.0)
    for _ in range(50):
        f = math.exp(h) - h - 1 - arl_hours * kl
        step = f / (math.exp(h) - 1)
        h -= step
        if abs(step) < 1e-9:
            break
    return max(h, 0.5)


@dataclass
class PoissonCusum:
    """One-sided Poisson CUSUM for a rise to ``ratio`` times the expected rate.

    ``step(count, expected)`` adds one interval with ``count`` complaints where ``expected`` were
    expected (rate × interval) and returns True when the statistic reaches ``threshold``; the
    statistic then restarts from zero (one alarm per excursion)."""

    ratio: float = 3.0
    threshold: float = 9.0
    value: float = 0.0

    def step(self, count: float, expected: float) -> bool:
        expected = max(expected, 0.0)
        increment = count * math.log(self.ratio) - (self.ratio - 1) * expected
        self.value = max(0.0, self.value + increment)
        if self.value >= self.threshold:
            self.value = 0.0
            return True
        return False


def detection_delays(alarms: Sequence[int], bursts: Sequence[tuple[int, int]]) -> tuple[list[int | None], int]:
    """Match alarm minutes to planted bursts ``(start, end)`` (minutes, end exclusive): return the
    delay of the first alarm inside each burst (None = missed) and the number of alarms outside
    every burst (false alarms; an alarm up to 60 minutes after a burst still belongs to it)."""
    delays: list[int | None] = []
    for start, end in bursts:
        inside = [a - start for a in alarms if start <= a < end]
        delays.append(min(inside) if inside else None)
    false = sum(1 for a in alarms if not any(start <= a < end + 60 for start, end in bursts))
    return delays, false
