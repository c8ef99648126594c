"""Status changes: stabilise, close; close-anchored deadlines in working days over a holiday."""

import pytest
import time_machine

from kuaixiang.crisis import services
from kuaixiang.crisis.models import IncidentTask
from kuaixiang.errors import Conflict, Forbidden
from tests.crisis.conftest import local


@pytest.fixture
def incident(crisis_org):
    with time_machine.travel(local(2025, 9, 30, 10, 0), tick=False):
        return services.incident_open(playbook="telecom_crisis", title="计费系统故障", actor=crisis_org.hq_manager)


def test_the_special_report_is_due_three_working_days_after_closing_over_national_day(crisis_org, incident):
    # 1–8 October 2025 are holidays; 9 and 10 October are working days, 11 October (Saturday) a make-up day.
    with time_machine.travel(local(2025, 9, 30, 15, 0), tick=False):
        services.incident_close(incident_id=incident.pk, actor=crisis_org.leader, note="已恢复")
    report = incident.tasks.get(key="special_report")
    assert report.state == "open"
    assert report.due_at == local(2025, 10, 11, 23, 59, 59)
    assert report.next_check_at == report.due_at
    hourly = incident.tasks.get(key="hourly")
    assert (hourly.state, hourly.done_at) == ("done", local(2025, 9, 30, 15, 0))
    incident.refresh_from_db()
    assert (incident.status, incident.closed_at) == ("closed", local(2025, 9, 30, 15, 0))


def test_an_ordinary_week_gives_the_third_working_day(crisis_org, incident):
    with time_machine.travel(local(2025, 11, 14, 18, 0), tick=False):  # a Friday
        services.incident_close(incident_id=incident.pk, actor=crisis_org.hq_manager)
    assert incident.tasks.get(key="special_report").due_at == local(2025, 11, 19, 23, 59, 59)


def test_stabilise_then_close(crisis_org, incident):
    with time_machine.travel(local(2025, 9, 30, 12, 0), tick=False):
        services.incident_stabilise(incident_id=incident.pk, actor=crisis_org.leader)
    incident.refresh_from_db()
    assert (incident.status, incident.stabilised_at) == ("stabilising", local(2025, 9, 30, 12, 0))
    with pytest.raises(Conflict):
        services.incident_stabilise(incident_id=incident.pk, actor=crisis_org.leader)
    services.incident_close(incident_id=incident.pk, actor=crisis_org.leader)
    with pytest.raises(Conflict) as caught:
        services.incident_close(incident_id=incident.pk, actor=crisis_org.leader)
    assert caught.value.code == "incident_closed"
    assert list(incident.events.values_list("kind", flat=True)).count("close") == 1


@pytest.mark.parametrize("persona", ["agent", "lead", "pr", "handler"])
def test_only_managers_and_leaders_close(crisis_org, incident, persona):
    with pytest.raises(Forbidden):
        services.incident_close(incident_id=incident.pk, actor=crisis_org.persona(persona))
    incident.refresh_from_db()
    assert incident.status == "active"
    assert not IncidentTask.objects.filter(incident=incident, key="special_report", due_at__isnull=False).exists()


def test_a_branch_manager_sees_but_may_not_close_an_hq_incident(crisis_org, incident):
    with pytest.raises(Forbidden) as caught:
        services.incident_close(incident_id=incident.pk, actor=crisis_org.manager)
    assert caught.value.code == "incident_other_unit"


def test_completing_a_task_records_who_and_whether_in_time(crisis_org, incident):
    fix = incident.tasks.get(key="fix")
    with time_machine.travel(local(2025, 9, 30, 13, 0), tick=False):
        services.task_complete(
            task_id=fix.pk, actor=crisis_org.hq_manager, note="方案已提交", checklist=[True, True, False]
        )
    fix.refresh_from_db()
    assert (fix.state, fix.done_by, fix.next_check_at) == ("done", crisis_org.hq_manager, None)
    assert [c["done"] for c in fix.checklist] == [True, True, False]
    assert "已超时" in incident.events.get(kind="task_done", payload__task_id=fix.pk).message
    with pytest.raises(Conflict):
        services.task_complete(task_id=fix.pk, actor=crisis_org.hq_manager)
    with pytest.raises(Conflict) as caught:
        services.task_complete(task_id=incident.tasks.get(key="special_report").pk, actor=crisis_org.hq_manager)
    assert caught.value.code == "task_waiting"


def test_a_task_is_completed_by_its_owner_role_or_a_manager(crisis_org, incident):
    script = incident.tasks.get(key="script")
    with pytest.raises(Forbidden):
        services.task_complete(task_id=script.pk, actor=crisis_org.legal)
    services.task_complete(task_id=script.pk, actor=crisis_org.pr)  # the PR participant owns it
    assert incident.tasks.get(key="script").state == "done"
