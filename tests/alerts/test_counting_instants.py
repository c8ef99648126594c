"""Count rules on a bulk registration at receipt: each complaint counts at its own instant."""

from datetime import datetime

import pytest

from kuaixiang import clock
from kuaixiang.alerts.models import Warning, WarningComplaint, WarningCounter, WarningEvent
from kuaixiang.alerts.signals import warning_raised
from kuaixiang.complaints.intake import parse_complaint_input
from kuaixiang.complaints.services import complaint_register_bulk
from tests.alerts.conftest import make_rule

LEVELS = [
    {"level": 1, "at": 3, "notify": [{"role": "manager"}]},
    {"level": 2, "at": 5, "notify": [{"role": "manager"}]},
]


def local(day: int, hour: int, minute: int) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=clock.SHANGHAI)


def register_at(org, times: list[datetime]) -> list:
    items = [
        parse_complaint_input(
            {
                "channel": "phone",
                "complainant_phone": f"138000000{n:02d}",
                "description": f"手机没有信号{n}",
                "category_id": org.leaf.pk,
                "received_at": at.isoformat(),
            }
        )
        for n, at in enumerate(times)
    ]
    results = complaint_register_bulk(actor=org.agent, items=items, at_receipt=True)
    assert [r.status for r in results] == [201] * len(times)
    return [r.complaint for r in results]


@pytest.fixture
def rule(org):
    return make_rule(levels=LEVELS)


@pytest.fixture
def raised():
    """(level, previous level, now) of every ``warning_raised`` signal sent in the test."""
    seen: list[tuple[int, int, datetime]] = []

    def receiver(sender, warning, previous_level, now, **kwargs):
        seen.append((warning.level, previous_level, now))

    warning_raised.connect(receiver, dispatch_uid="test_counting_instants")
    yield seen
    warning_raised.disconnect(dispatch_uid="test_counting_instants")


def test_a_batch_crossing_two_levels_warns_at_each_crossing_complaint(org, rule, raised):
    times = [local(2, 9, 3 * m) for m in range(6)]
    complaints = register_at(org, times)
    warning = Warning.objects.get()
    assert warning.raised_at == times[2]  # the third complaint crossed level 1
    assert (warning.level, warning.count) == (2, 6)
    events = warning.events.filter(kind__in=["raised", "rose"]).order_by("at")
    assert [(e.kind, e.level, e.at, e.payload["count"]) for e in events] == [
        ("raised", 1, times[2], 3),
        ("rose", 2, times[4], 5),  # the fifth crossed level 2
    ]
    assert raised == [(1, 0, times[2]), (2, 1, times[4])]
    assert WarningCounter.objects.get(rule=rule).count == 6
    linked = WarningComplaint.objects.filter(warning=warning).values_list("complaint_id", flat=True)
    assert set(linked) == {c.pk for c in complaints}


def test_a_batch_below_the_first_level_raises_nothing(org, rule):
    register_at(org, [local(2, 9, m) for m in range(2)])
    assert not Warning.objects.exists()
    assert WarningCounter.objects.get(rule=rule).count == 2


def test_complaints_of_two_days_count_in_two_windows(org, rule, raised):
    times = [local(2, 23, 50), local(2, 23, 55), local(2, 23, 59), local(3, 0, 0), local(3, 0, 1), local(3, 0, 10)]
    register_at(org, times)
    warnings = Warning.objects.order_by("raised_at")
    assert [(w.window_start, w.raised_at, w.level, w.count) for w in warnings] == [
        (local(2, 0, 0), times[2], 1, 3),
        (local(3, 0, 0), times[5], 1, 3),
    ]
    assert raised == [(1, 0, times[2]), (1, 0, times[5])]
    counters = WarningCounter.objects.filter(rule=rule).order_by("bucket")
    assert [(c.bucket, c.count) for c in counters] == [(local(2, 0, 0), 3), (local(3, 0, 0), 3)]
    assert not WarningEvent.objects.filter(kind="rose").exists()


def test_a_batch_crossing_a_level_only_over_two_days_raises_nothing(org, rule):
    register_at(org, [local(2, 23, 50), local(2, 23, 58), local(3, 0, 5), local(3, 0, 9)])
    assert not Warning.objects.exists()
    counters = WarningCounter.objects.filter(rule=rule).order_by("bucket")
    assert [(c.bucket, c.count) for c in counters] == [(local(2, 0, 0), 2), (local(3, 0, 0), 2)]


def test_a_later_batch_continues_the_count_of_its_window(org, rule, raised):
    register_at(org, [local(2, 9, 0), local(2, 9, 1)])
    times = [local(2, 10, m) for m in range(4)]
    register_at(org, times)
    warning = Warning.objects.get()
    assert (warning.raised_at, warning.level, warning.count) == (times[0], 2, 6)
    assert raised == [(1, 0, times[0]), (2, 1, times[2])]


def test_a_warning_links_only_the_complaints_of_its_own_window(org, rule):
    times = [local(2, 23, 50), local(2, 23, 55), local(3, 0, 0), local(3, 0, 1), local(3, 0, 2)]
    complaints = register_at(org, times)
    (warning,) = Warning.objects.all()
    assert warning.window_start == local(3, 0, 0)
    linked = WarningComplaint.objects.filter(warning=warning).values_list("complaint_id", flat=True)
    assert set(linked) == {c.pk for c in complaints[2:]}
