"""duty_resolve / duty_on_shift: roster first, then the unit's roster, then staff with the role."""

from datetime import date, datetime

import pytest

from kuaixiang.clock import SHANGHAI
from kuaixiang.org.duty import duty_on_shift, duty_resolve, duty_resolve_with_source
from tests.org.duty_helpers import person, shift

# 2026-11-23 is a Monday; Asia/Shanghai is UTC+8.
DAY = date(2026, 11, 23)


def at(hour: int, minute: int = 0, day: int = 23) -> datetime:
    """A Shanghai wall-clock time on 2026-11-<day>."""
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def roster(org):
    lead2 = person("lead2", org.centre, "lead")
    day_shift = shift(org, org.lead, org.centre, "lead", DAY, "08:30", "17:30")
    night_shift = shift(org, lead2, org.centre, "lead", DAY, "17:30", "08:30")
    return lead2, day_shift, night_shift


def test_the_person_on_the_covering_shift_is_on_duty(org, roster):
    lead2, _, _ = roster
    assert duty_resolve(role="lead", department=org.centre, at=at(9)) == [org.lead]
    assert duty_resolve(role="lead", department=org.centre.pk, at=at(18)) == [lead2]


def test_a_night_shift_crosses_midnight(org, roster):
    lead2, _, night = roster
    assert night.ends_at.astimezone(night.starts_at.tzinfo) > night.starts_at
    assert duty_resolve(role="lead", department=org.centre, at=at(3, day=24)) == [lead2]
    # 08:30 next morning the night shift has ended (half-open interval) and no day shift exists.
    users, source = duty_resolve_with_source(role="lead", department=org.centre, at=at(8, 30, day=24))
    assert source == "fallback"
    assert {u.username for u in users} == {"lead", "lead2"}


def test_shift_boundaries_are_half_open(org, roster):
    lead2, _, _ = roster
    assert duty_resolve(role="lead", department=org.centre, at=at(17, 30)) == [lead2]
    assert duty_resolve(role="lead", department=org.centre, at=at(8, 30)) == [org.lead]


def test_without_a_covering_shift_the_staff_with_the_role_answer(org):
    users, source = duty_resolve_with_source(role="lead", department=org.centre, at=at(9))
    assert (users, source) == ([org.lead], "fallback")


def test_fallback_walks_up_to_the_unit_when_the_department_has_nobody(org):
    # Leaders sit in 领导小组 under HQ; asking for a leader of the HQ complaint centre finds them.
    assert duty_resolve(role="leader", department=org.hq_centre, at=at(9)) == [org.leader]


def test_unit_level_roster_is_used_for_a_department_below(org):
    duty_leader = person("duty_leader", org.branch, "leader")
    shift(org, duty_leader, org.branch, "leader", DAY, "00:00", "00:00")
    users, source = duty_resolve_with_source(role="leader", department=org.network, at=at(12))
    assert (users, source) == ([duty_leader], "unit_roster")


def test_inactive_people_are_never_on_duty(org, roster):
    lead2, _, _ = roster
    lead2.is_active = False
    lead2.save()
    assert duty_on_shift(role="lead", department_ids=[org.centre.pk], at=at(18)) == []
    assert duty_resolve(role="lead", department=org.centre, at=at(18)) == [org.lead]


def test_duty_on_shift_is_one_query(org, roster, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert duty_on_shift(role="lead", department_ids=[org.centre.pk, org.network.pk], at=at(9)) == [org.lead]


def test_other_roles_and_departments_do_not_leak(org, roster):
    assert duty_on_shift(role="head", department_ids=[org.centre.pk], at=at(9)) == []
    assert duty_on_shift(role="lead", department_ids=[org.other_centre.pk], at=at(9)) == []
