"""The pure surge detectors: baselines, ratios and the Poisson CUSUM."""

import math
import random

from hypothesis import given
from hypothesis import strategies as st

from kuaixiang.alerts import detectors


@given(st.lists(st.integers(0, 50), min_size=24 * 7 * 5, max_size=24 * 7 * 5))
def test_same_hour_baseline_is_the_mean_of_the_same_hours_of_previous_weeks(counts):
    now = len(counts) - 1
    value = detectors.same_hour_baseline(lambda i: counts[now + i], 0, weeks=4, spread=0)
    assert value == sum(counts[now - 168 * w] for w in range(1, 5)) / 4


def test_baseline_without_history_is_none():
    assert detectors.same_hour_baseline(lambda i: None, 500) is None


@given(st.floats(0, 1e4), st.floats(0, 1e4))
def test_ratios_are_positive_and_one_when_equal(a, b):
    assert detectors.same_hour_ratio(a, b) > 0
    assert math.isclose(detectors.same_hour_ratio(a, a), 1.0)
    assert math.isclose(detectors.hour_change(b, b), 1.0)


@given(st.floats(0.1, 200), st.floats(1.2, 20), st.floats(24, 24 * 365))
def test_threshold_grows_with_the_stated_time_between_false_alarms(rate, ratio, arl):
    h = detectors.cusum_threshold(rate=rate, ratio=ratio, arl_hours=arl)
    assert h > 0
    assert detectors.cusum_threshold(rate=rate, ratio=ratio, arl_hours=arl * 10) > h


@given(st.lists(st.integers(0, 5), max_size=300))
def test_cusum_never_goes_negative(counts):
    cusum = detectors.PoissonCusum(ratio=3, threshold=8)
    for c in counts:
        cusum.step(c, 0.2)
        assert cusum.value >= 0


def test_cusum_finds_a_tenfold_surge_within_fifteen_minutes_and_stays_quiet_before():
    rng = random.Random(7)
    rate = 10 / 60  # per minute
    h = detectors.cusum_threshold(rate=10, ratio=3, arl_hours=60 * 24)
    cusum = detectors.PoissonCusum(ratio=3, threshold=h)

    def poisson(lam):
        k, p, limit = 0, 1.0, math.exp(-lam)
        while True:
            p *= rng.random()
            if p <= limit:
                return k
            k += 1

    alarms_before = sum(cusum.step(poisson(rate), rate) for _ in range(24 * 60))
    assert alarms_before == 0
    delay = next(m for m in range(60) if cusum.step(poisson(rate * 10), rate))
    assert delay <= 15


def test_detection_delays_match_alarms_to_bursts():
    delays, false = detectors.detection_delays([5, 130, 400, 500], [(100, 160), (300, 360)])
    assert delays == [30, None]
    assert false == 2  # 5 and 500; 400 is within an hour after the second burst


def test_rolling_hour_spreads_the_previous_hour():
    assert detectors.rolling_hour(10, 60, 30) == 40
    assert detectors.rolling_hour(10, 60, 60) == 10
