"""Suspending a complaint stops its clocks; resuming extends every running deadline by the paused time."""

import time_machine

from kuaixiang.complaints.models import Complaint
from kuaixiang.complaints.services import complaint_transition
from kuaixiang.sla.models import ComplaintStage
from tests.lifecycle_paths import complaint_in
from tests.sla.conftest import sh
from tests.sla.policies import make_policy

MON = sh(2025, 10, 13, 10, 0)


def test_suspend_pauses_and_resume_extends_due_by_the_paused_working_time(org):
    make_policy()
    with time_machine.travel(MON, tick=False):
        complaint = complaint_in(org, "processing")
    stage = ComplaintStage.objects.get(complaint=complaint, stage="department_return")
    assert stage.due_at == sh(2025, 10, 13, 15, 30)

    with time_machine.travel(sh(2025, 10, 13, 11, 0), tick=False):
        complaint_transition(complaint_id=complaint.pk, action="suspend", actor=org.lead, data={"reason": "等待用户"})
    stage.refresh_from_db()
    assert stage.paused_at == sh(2025, 10, 13, 11, 0) and stage.next_check_at is None
    assert Complaint.objects.get(pk=complaint.pk).due_at is None  # nothing runs while suspended

    with time_machine.travel(sh(2025, 10, 13, 14, 0), tick=False):
        complaint_transition(complaint_id=complaint.pk, action="resume", actor=org.lead, data={})
    stage.refresh_from_db()
    # Paused 11:00–14:00 = 1.5 working hours (lunch 12:00–13:30 does not count).
    assert stage.paused_seconds == 5400 and stage.paused_at is None
    assert stage.due_at == sh(2025, 10, 13, 17, 0)
    assert stage.next_check_at is not None
    assert Complaint.objects.get(pk=complaint.pk).due_at == sh(2025, 10, 13, 17, 0)


def test_a_clock_hour_target_is_extended_by_clock_time(org):
    make_policy(targets={"department_return": (6, "clock_hours")})
    with time_machine.travel(MON, tick=False):
        complaint = complaint_in(org, "processing")
    with time_machine.travel(sh(2025, 10, 13, 11, 0), tick=False):
        complaint_transition(complaint_id=complaint.pk, action="suspend", actor=org.lead, data={"reason": "等待检测"})
    with time_machine.travel(sh(2025, 10, 13, 14, 0), tick=False):
        complaint_transition(complaint_id=complaint.pk, action="resume", actor=org.lead, data={})
    stage = ComplaintStage.objects.get(complaint=complaint, stage="department_return")
    assert stage.paused_seconds == 3 * 3600
    assert stage.due_at == sh(2025, 10, 13, 19, 0)


def test_a_policy_may_keep_the_clock_running_while_suspended(org):
    make_policy(pause_on_suspend=False)
    with time_machine.travel(MON, tick=False):
        complaint = complaint_in(org, "suspended")
    stage = ComplaintStage.objects.get(complaint=complaint, stage="department_return")
    assert stage.paused_at is None and stage.due_at == sh(2025, 10, 13, 15, 30)
