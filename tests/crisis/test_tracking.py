"""Hourly tracking (every hour's new linked complaints against the previous hour, also on the timeline)
and the escalation sweep of late tasks."""

from datetime import timedelta

import pytest
import time_machine

from kuaixiang.crisis import selectors, services, sweeps
from kuaixiang.crisis.models import IncidentEvent, IncidentTask
from kuaixiang.notify.models import Notification
from tests.crisis.conftest import local
from tests.personas import register


@pytest.fixture
def incident(crisis_org):
    with time_machine.travel(local(2025, 9, 30, 10, 20), tick=False):
        return services.incident_open(
            playbook="telecom_crisis", title="信号弱", actor=crisis_org.hq_manager, match_category=crisis_org.category
        )


def _arrive(org, *minutes_after_ten):
    for minutes in minutes_after_ten:
        with time_machine.travel(local(2025, 9, 30, 10, 0) + timedelta(minutes=minutes), tick=False):
            register(org.agent, category_id=org.leaf.pk)


def test_the_series_counts_each_hour_and_its_change(crisis_org, incident):
    _arrive(crisis_org, 25, 30, 70, 75, 80, 85, 190)  # 10:xx ×2, 11:xx ×4, 12:xx ×0, 13:xx ×1
    figures = selectors.hourly_figures(incident, now=local(2025, 9, 30, 13, 30))
    assert [(f.start, f.count, f.change, f.percent) for f in figures] == [
        (local(2025, 9, 30, 10, 0), 2, 2, None),
        (local(2025, 9, 30, 11, 0), 4, 2, 100.0),
        (local(2025, 9, 30, 12, 0), 0, -4, -100.0),
        (local(2025, 9, 30, 13, 0), 1, 1, None),
    ]


def test_each_finished_hour_is_written_to_the_timeline_once(crisis_org, incident):
    _arrive(crisis_org, 25, 70, 75)
    assert sweeps.hours_log(now=local(2025, 9, 30, 12, 5)) == 2
    assert sweeps.hours_log(now=local(2025, 9, 30, 12, 30)) == 0
    messages = list(IncidentEvent.objects.filter(incident=incident, kind="hourly").values_list("message", flat=True))
    assert messages == [
        "09-30 10:00–11:00 新增关联投诉 1 件，较前一小时 +1（—）",
        "09-30 11:00–12:00 新增关联投诉 2 件，较前一小时 +1（+100.0%）",
    ]
    with time_machine.travel(local(2025, 9, 30, 12, 40), tick=False):
        services.incident_close(incident_id=incident.pk, actor=crisis_org.hq_manager)
    assert sweeps.hours_log(now=local(2025, 9, 30, 12, 41)) == 1  # the hour of closing ends the series
    assert sweeps.hours_log(now=local(2025, 9, 30, 15, 0)) == 0


def test_a_late_task_is_escalated_once_per_level(crisis_org, incident):
    fix = incident.tasks.get(key="fix")  # due 12:20
    assert sweeps.tasks_sweep(now=local(2025, 9, 30, 12, 19)) == 0
    assert sweeps.tasks_sweep(now=local(2025, 9, 30, 12, 21)) == 3  # fix, script and branches, all due 12:20
    assert sweeps.tasks_sweep(now=local(2025, 9, 30, 12, 22)) == 0
    fix.refresh_from_db()
    assert (fix.escalation_level, fix.next_check_at) == (1, local(2025, 9, 30, 13, 20))
    notices = Notification.objects.filter(subject__contains="已超时", subject__endswith=fix.title)
    assert notices.exists()
    assert sweeps.tasks_sweep(now=local(2025, 9, 30, 13, 21)) == 3
    fix.refresh_from_db()
    assert (fix.escalation_level, fix.next_check_at) == (2, None)
    assert IncidentEvent.objects.filter(incident=incident, kind="escalate", payload__task_id=fix.pk).count() == 2


def test_a_claimed_level_is_not_fired_twice(crisis_org, incident):
    fix = incident.tasks.get(key="fix")
    now = local(2025, 9, 30, 12, 30)
    assert sweeps.task_escalate(task_id=fix.pk, now=now) == 1
    IncidentTask.objects.filter(pk=fix.pk).update(next_check_at=now)  # a second worker read the row before
    assert sweeps.task_escalate(task_id=fix.pk, now=now) == 2
    assert sweeps.task_escalate(task_id=fix.pk, now=now) is None


def test_a_done_task_is_not_escalated(crisis_org, incident):
    fix = incident.tasks.get(key="fix")
    services.task_complete(task_id=fix.pk, actor=crisis_org.hq_manager)
    assert sweeps.task_escalate(task_id=fix.pk, now=local(2025, 9, 30, 18, 0)) is None
