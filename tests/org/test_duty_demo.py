"""The demo roster: 14 days from today, weekends included, a deliberate gap at the network."""

from datetime import date, timedelta

from kuaixiang.org.models import Department, Shift, ShiftTemplate
from kuaixiang.org.selectors import duty_gaps
from kuaixiang.org.services import DEMO_NETWORK_GAP_DAYS, roster_demo
from tests.org.duty_helpers import person

FIRST = date(2026, 11, 23)


def test_demo_roster_covers_the_centres_and_leaves_the_network_gap(org):
    person("lead2", org.centre, "lead")
    created = roster_demo(departments=list(Department.objects.all()), actor=org.admin, first=FIRST)
    assert {s.date for s in created} == {FIRST + timedelta(days=i) for i in range(14)}
    centre = Shift.objects.filter(department=org.centre)
    assert centre.filter(role="lead").count() == 28  # day and night, 14 days
    assert centre.filter(role="manager").count() == 4  # two weekends
    assert set(centre.filter(role="lead").values_list("user__username", flat=True)) == {"lead", "lead2"}
    assert Shift.objects.filter(department=org.hq_leaders, role="leader").count() == 14
    last = FIRST + timedelta(days=13)
    assert duty_gaps(department=org.centre, first=FIRST, last=last) == []
    gaps = duty_gaps(department=org.network, first=FIRST, last=last)
    assert [g.day for g in gaps] == [last - timedelta(days=i) for i in reversed(range(DEMO_NETWORK_GAP_DAYS))]
    # Templates exist even where nobody holds the role (the other centre has no lead): no shifts there.
    assert ShiftTemplate.objects.filter(department=org.other_centre, role="lead").count() == 2
    assert not Shift.objects.filter(department=org.other_centre, role="lead").exists()
