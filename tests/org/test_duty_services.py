"""Roster writers: shifts, rotations over weekends and holidays, swaps, the gap check and notices."""

from datetime import date, time

import pytest
import time_machine

from kuaixiang.errors import Conflict, Forbidden, InvalidInput
from kuaixiang.notify.models import Notification
from kuaixiang.org.models import Shift, ShiftKind, ShiftSwap, ShiftTemplate
from kuaixiang.org.selectors import duty_gaps
from kuaixiang.org.services import gaps_notify, rotation_generate, shift_create, shift_swap, shift_update
from tests.org.duty_helpers import person, shift


@pytest.fixture
def templates(org):
    day = ShiftTemplate.objects.create(
        department=org.centre, role="lead", name="白班", kind="day", start=time(8, 30), end=time(17, 30)
    )
    night = ShiftTemplate.objects.create(
        department=org.centre, role="lead", name="夜班", kind="night", start=time(17, 30), end=time(8, 30)
    )
    return day, night


def test_a_shift_stores_utc_instants_from_local_times(org):
    s = shift(org, org.lead, org.centre, "lead", date(2026, 11, 23), "22:00", "06:00", kind="night")
    assert s.starts_at.isoformat() == "2026-11-23T14:00:00+00:00"
    assert s.ends_at.isoformat() == "2026-11-23T22:00:00+00:00"


def test_only_roster_managers_in_scope_may_write(org):
    with pytest.raises(Forbidden):
        shift_create(
            department=org.centre, role="lead", user=org.lead, day=date(2026, 11, 23),
            start=time(8), end=time(17), actor=org.agent,
        )  # fmt: skip
    with pytest.raises(Forbidden):  # the other branch is outside the manager's scope
        shift_create(
            department=org.other_centre, role="agent", user=org.outside_agent, day=date(2026, 11, 23),
            start=time(8), end=time(17), actor=org.manager,
        )  # fmt: skip
    made = shift_create(
        department=org.centre, role="lead", user=org.lead, day=date(2026, 11, 23),
        start=time(8), end=time(17), actor=org.manager,
    )  # fmt: skip
    assert made.pk


def test_bad_input_is_refused_and_nothing_written(org):
    org.agent.is_active = False
    org.agent.save()
    cases = [
        {"role": "boss", "user": org.lead},
        {"role": "agent", "user": org.agent},
        {"role": "lead", "user": org.lead, "kind": "siesta"},
    ]
    for case in cases:
        with pytest.raises(InvalidInput):
            shift_create(
                department=org.centre, day=date(2026, 11, 23), start=time(8), end=time(17), actor=org.admin, **case
            )
    assert not Shift.objects.exists()


def test_the_same_shift_twice_is_a_conflict(org):
    shift(org, org.lead, org.centre, "lead", date(2026, 11, 23), "08:00", "17:00")
    with pytest.raises(Conflict):
        shift(org, org.lead, org.centre, "lead", date(2026, 11, 23), "08:00", "17:00")
    assert Shift.objects.count() == 1


def test_update_recomputes_the_window(org):
    s = shift(org, org.lead, org.centre, "lead", date(2026, 11, 23), "08:00", "17:00")
    shift_update(shift=s, actor=org.admin, end=time(7, 0))
    s.refresh_from_db()
    assert (s.ends_at - s.starts_at).total_seconds() == 23 * 3600


def test_rotation_covers_weekends_and_the_national_day_holiday(org, templates):
    lead2 = person("lead2", org.centre, "lead")
    lead3 = person("lead3", org.centre, "lead")
    created = rotation_generate(
        department=org.centre, role="lead", templates=list(templates), people=[org.lead, lead2, lead3],
        first=date(2026, 9, 28), last=date(2026, 10, 11), actor=org.manager,
    )  # fmt: skip
    assert len(created) == 14 * 2
    kinds = {(s.date, s.template.name): s.kind for s in created}
    assert kinds[(date(2026, 9, 28), "白班")] == ShiftKind.DAY  # Monday
    assert kinds[(date(2026, 9, 28), "夜班")] == ShiftKind.NIGHT
    assert kinds[(date(2026, 10, 1), "白班")] == ShiftKind.HOLIDAY  # 国庆节
    assert kinds[(date(2026, 10, 4), "夜班")] == ShiftKind.HOLIDAY  # Sunday inside the holiday block
    assert kinds[(date(2026, 10, 10), "白班")] == ShiftKind.DAY  # Saturday make-up working day
    assert kinds[(date(2026, 10, 11), "白班")] == ShiftKind.WEEKEND
    # Day and night of one date are different people; everybody gets a fair share.
    for day in {s.date for s in created}:
        assert len({s.user_id for s in created if s.date == day}) == 2
    counts = sorted(sum(1 for s in created if s.user_id == u.pk) for u in (org.lead, lead2, lead3))
    assert counts[-1] - counts[0] <= 1
    # Generating again skips template days already covered, or replaces them on request.
    again = rotation_generate(
        department=org.centre, role="lead", templates=list(templates), people=[org.lead],
        first=date(2026, 9, 28), last=date(2026, 10, 11), actor=org.manager,
    )  # fmt: skip
    assert again == []
    replaced = rotation_generate(
        department=org.centre, role="lead", templates=[templates[0]], people=[lead3],
        first=date(2026, 9, 28), last=date(2026, 9, 29), actor=org.manager, replace=True,
    )  # fmt: skip
    assert {s.user_id for s in replaced} == {lead3.pk}
    assert Shift.objects.count() == 28


def test_templates_for_off_days_only_apply_on_weekends_and_holidays(org):
    weekend = ShiftTemplate.objects.create(
        department=org.centre, role="manager", name="休息日值班", kind="weekend",
        start=time(9), end=time(18), days=ShiftTemplate.Days.OFF,
    )  # fmt: skip
    created = rotation_generate(
        department=org.centre, role="manager", templates=[weekend], people=[org.manager],
        first=date(2026, 9, 28), last=date(2026, 10, 11), actor=org.admin,
    )  # fmt: skip
    # 10-01..10-07 holiday and Sunday 10-11; Saturday 10-10 is a make-up working day.
    assert sorted(s.date.day for s in created) == [1, 2, 3, 4, 5, 6, 7, 11]


def test_rotation_refuses_bad_input(org, templates):
    other = ShiftTemplate.objects.create(department=org.network, role="head", name="值班", start=time(8), end=time(17))
    bad = [
        {"templates": [], "people": [org.lead]},
        {"templates": list(templates), "people": []},
        {"templates": [other], "people": [org.lead]},
        {"templates": list(templates), "people": [org.lead], "last": date(2026, 9, 1)},
        {"templates": list(templates), "people": [org.lead], "last": date(2028, 1, 1)},
        {"templates": list(templates), "people": [org.lead], "block_days": 0},
    ]
    for case in bad:
        args = {"first": date(2026, 9, 28), "last": date(2026, 10, 11), **case}
        with pytest.raises(InvalidInput):
            rotation_generate(department=org.centre, role="lead", actor=org.admin, **args)
    assert not Shift.objects.exists()


def test_swap_moves_the_shift_and_is_recorded(org):
    lead2 = person("lead2", org.centre, "lead")
    s = shift(org, org.lead, org.centre, "lead", date(2026, 11, 23), "08:30", "17:30")
    swap = shift_swap(shift=s, to_user=lead2, approved_by=org.manager, actor=org.lead, reason="家中有事")
    s.refresh_from_db()
    assert s.user == lead2
    assert (swap.from_user, swap.to_user, swap.approved_by) == (org.lead, lead2, org.manager)
    with pytest.raises(InvalidInput):  # an agent cannot approve
        shift_swap(shift=s, to_user=org.lead, approved_by=org.agent, actor=org.lead)
    with pytest.raises(InvalidInput):
        shift_swap(shift=s, to_user=lead2, approved_by=org.manager, actor=org.lead)
    assert ShiftSwap.objects.count() == 1


def test_gap_check_reports_uncovered_template_days(org, templates):
    day, night = templates
    night.min_staff = 2
    night.save()
    shift(org, org.lead, org.centre, "lead", date(2026, 11, 23), "08:30", "17:30")
    shift(org, org.lead, org.centre, "lead", date(2026, 11, 23), "17:30", "08:30")
    gaps = duty_gaps(department=org.centre, first=date(2026, 11, 23), last=date(2026, 11, 24))
    found = [(g.day.day, g.template.name, g.need, g.have) for g in gaps]
    assert found == [(23, "夜班", 2, 1), (24, "白班", 1, 0), (24, "夜班", 2, 0)]
    # A template that is not required is never a gap.
    ShiftTemplate.objects.update(required=False)
    assert duty_gaps(department=org.centre, first=date(2026, 11, 23), last=date(2026, 11, 24)) == []


def test_gap_check_ignores_inactive_people_and_other_roles(org, templates):
    shift(org, org.manager, org.centre, "manager", date(2026, 11, 23), "08:00", "20:00")
    lead2 = person("lead2", org.centre, "lead")
    shift(org, lead2, org.centre, "lead", date(2026, 11, 23), "08:30", "17:30")
    lead2.is_active = False
    lead2.save()
    gaps = duty_gaps(department=org.centre, first=date(2026, 11, 23), last=date(2026, 11, 23))
    assert [(g.template.name, g.have) for g in gaps] == [("白班", 0), ("夜班", 0)]


def test_gaps_notify_tells_the_department_head(org):
    ShiftTemplate.objects.create(
        department=org.network, role="handler", name="夜间待命", kind="night", start=time(18), end=time(8)
    )
    with time_machine.travel("2026-11-23 02:00:00+00:00", tick=False):
        notified = gaps_notify(days=7)
    assert notified == 1
    inbox = Notification.objects.filter(channel=Notification.Channel.INBOX)
    assert [n.recipient for n in inbox] == [org.head]
    assert "7 处" in inbox[0].subject
    assert Notification.objects.filter(channel=Notification.Channel.EMAIL, address="head@example.cn").exists()


def test_gaps_notify_is_quiet_when_covered(org):
    template = ShiftTemplate.objects.create(
        department=org.network, role="handler", name="夜间待命", kind="night", start=time(18), end=time(8)
    )
    rotation_generate(
        department=org.network, role="handler", templates=[template], people=[org.handler],
        first=date(2026, 11, 23), last=date(2026, 11, 29), actor=org.admin,
    )  # fmt: skip
    with time_machine.travel("2026-11-23 02:00:00+00:00", tick=False):
        assert gaps_notify(days=7) == 0
    assert not Notification.objects.exists()


def test_the_command_notifies_and_checks_its_argument(org):
    from io import StringIO

    from django.core.management import call_command

    ShiftTemplate.objects.create(department=org.centre, role="lead", name="白班", start=time(8), end=time(17))
    out = StringIO()
    call_command("duty_gaps_notify", "--days", "3", stdout=out)
    assert "已通知 1 个部门" in out.getvalue()
    # The centre has no head: its unit's manager is told.
    assert set(Notification.objects.filter(channel="inbox").values_list("recipient__username", flat=True)) == {
        "manager"
    }
    with pytest.raises(SystemExit):
        call_command("duty_gaps_notify", "--days", "0", stderr=StringIO())


def test_rotation_in_a_year_without_holiday_data_uses_weekdays(org, templates):
    created = rotation_generate(
        department=org.centre, role="lead", templates=[templates[0]], people=[org.lead],
        first=date(2031, 1, 4), last=date(2031, 1, 6), actor=org.admin,
    )  # fmt: skip
    assert [s.kind for s in created] == [ShiftKind.WEEKEND, ShiftKind.WEEKEND, ShiftKind.DAY]
