"""The department queue filters by deadline state, sorts by deadline and shows the remaining
working time of each complaint, colour-coded."""

import time_machine

from kuaixiang.complaints.selectors import ComplaintFilters, complaints_page
from tests.lifecycle_paths import complaint_in
from tests.personas import register
from tests.sla.conftest import sh
from tests.sla.policies import make_policy

MON = sh(2025, 10, 13, 10, 0)
TUE = sh(2025, 10, 14, 10, 0)


def _setup(org):
    """A dispatched complaint (4 working hours, due Mon 15:30), one registered later (acceptance
    1 working day, due Tue 23:59:59) and one with no timed stage (closed: refused)."""
    make_policy()
    with time_machine.travel(MON, tick=False):
        dispatched = complaint_in(org, "dispatched")
    with time_machine.travel(sh(2025, 10, 13, 11, 0), tick=False):
        registered = register(org.agent)
        refused = complaint_in(org, "refused")
    return dispatched, registered, refused


def _ids(user, **filters) -> list[int]:
    return [row["id"] for row in complaints_page(user, ComplaintFilters(**filters)).items]


def test_filter_by_deadline_state(org):
    dispatched, registered, refused = _setup(org)
    with time_machine.travel(sh(2025, 10, 13, 14, 31), tick=False):
        assert _ids(org.manager, sla_state="warning") == [dispatched.pk]
        assert _ids(org.manager, sla_state="on_time") == [registered.pk]
        assert _ids(org.manager, sla_state="overdue") == []
    with time_machine.travel(TUE, tick=False):
        assert _ids(org.manager, sla_state="overdue") == [dispatched.pk]
        assert refused.pk not in _ids(org.manager, sla_state="on_time")


def test_sort_by_deadline_pages_through_timed_open_complaints(org):
    dispatched, registered, _ = _setup(org)
    with time_machine.travel(MON, tick=False):  # the same deadline (Tue 23:59:59): by id after `registered`
        later = [register(org.agent) for _ in range(3)]
    with time_machine.travel(TUE, tick=False):
        assert _ids(org.manager, sort="due") == [dispatched.pk, registered.pk, *[c.pk for c in later]]
        first = complaints_page(org.manager, ComplaintFilters(sort="due"), limit=2)
        second = complaints_page(org.manager, ComplaintFilters(sort="due"), cursor=first.next_cursor, limit=2)
        third = complaints_page(org.manager, ComplaintFilters(sort="due"), cursor=second.next_cursor, limit=2)
    ids = [r["id"] for page in (first, second, third) for r in page.items]
    assert ids == [dispatched.pk, registered.pk, *[c.pk for c in later]] and third.next_cursor is None


def test_the_queue_page_shows_colour_coded_remaining_working_time(client, org):
    dispatched, registered, _ = _setup(org)
    client.force_login(org.manager)
    with time_machine.travel(sh(2025, 10, 13, 14, 31), tick=False):
        page = client.get("/queue/", {"sort": "due"}).content.decode()
    # 59 working minutes left on the department return; the acceptance 10 h 59 min (to Tue 18:00).
    assert 'data-sla="warn">剩余 0:59<' in page
    assert 'data-sla="ok">剩余 10:59<' in page
    assert page.index(f'data-id="{dispatched.pk}"') < page.index(f'data-id="{registered.pk}"')
    assert 'value="due" selected' in page
    with time_machine.travel(TUE, tick=False):
        late = client.get("/queue/", {"sla": "overdue"}).content.decode()
    assert 'data-sla="overdue">已超时 3:30<' in late and f'data-id="{registered.pk}"' not in late


def test_an_unknown_state_or_sort_is_ignored_by_the_page(client, org):
    _setup(org)
    client.force_login(org.manager)
    assert client.get("/queue/", {"sla": "soon", "sort": "x"}).status_code == 200
