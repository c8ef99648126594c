"""Stages start and complete with the lifecycle; the complaint's due_at is the earliest running one."""

import time_machine

from kuaixiang.complaints.models import Complaint
from kuaixiang.complaints.services import complaint_transition
from kuaixiang.sla.models import ComplaintStage
from tests.lifecycle_paths import complaint_in, payload_for
from tests.personas import register
from tests.sla.conftest import eod, sh
from tests.sla.policies import make_policy

MON = sh(2025, 10, 13, 10, 0)


def act(org, complaint, action, persona):
    return complaint_transition(
        complaint_id=complaint.pk, action=action, actor=org.persona(persona), data=payload_for(action, org, complaint)
    )


def stages(complaint) -> dict:
    return {s.stage: s for s in ComplaintStage.objects.filter(complaint=complaint)}


def running(complaint) -> set[str]:
    return {s.stage for s in ComplaintStage.objects.filter(complaint=complaint, completed_at__isnull=True)}


def test_registration_starts_acceptance_and_closure_with_stored_deadlines(org):
    make_policy()
    with time_machine.travel(MON, tick=False):
        complaint = register(org.agent)
    rows = stages(complaint)
    assert set(rows) == {"acceptance", "closure"}
    assert rows["acceptance"].due_at == eod(2025, 10, 14)
    assert rows["closure"].due_at == eod(2025, 10, 28)
    assert MON < rows["acceptance"].warn_at < rows["acceptance"].due_at
    assert Complaint.objects.get(pk=complaint.pk).due_at == eod(2025, 10, 14)


def test_without_a_matching_policy_nothing_is_timed(org):
    make_policy(channels=["letter"])
    complaint = register(org.agent)
    assert not ComplaintStage.objects.filter(complaint=complaint).exists()
    assert Complaint.objects.get(pk=complaint.pk).due_at is None


def test_each_action_moves_the_right_stages(org):
    make_policy()
    with time_machine.travel(MON, tick=False):
        complaint = register(org.agent)
        complaint = act(org, complaint, "accept", "agent")
        assert running(complaint) == {"reply", "closure"}
        complaint = act(org, complaint, "dispatch", "agent")
        assert running(complaint) == {"reply", "closure", "department_return"}
        # 10:00 + 4 working hours = 15:30 (lunch 12:00–13:30); the earliest deadline wins.
        assert Complaint.objects.get(pk=complaint.pk).due_at == sh(2025, 10, 13, 15, 30)
        complaint = act(org, complaint, "take", "handler")
        complaint = act(org, complaint, "return", "handler")
        assert running(complaint) == {"reply", "closure"}
        complaint = act(org, complaint, "review_pass", "lead")
        complaint = act(org, complaint, "reply", "agent")
        assert running(complaint) == {"closure"}
        complaint = act(org, complaint, "revisit", "agent")
        complaint = act(org, complaint, "archive", "lead")
    assert running(complaint) == set()
    assert Complaint.objects.get(pk=complaint.pk).due_at is None
    assert not any(s.breached for s in stages(complaint).values())


def test_refuse_completes_acceptance_and_closure(org):
    make_policy()
    complaint = complaint_in(org, "refused")
    assert running(complaint) == set()
    assert all(s.completed_at for s in stages(complaint).values())


def test_transfer_restarts_the_department_clock_and_reopen_starts_it_again(org):
    make_policy()
    complaint = complaint_in(org, "processing")
    first = ComplaintStage.objects.get(complaint=complaint, stage="department_return")
    complaint = act(org, complaint, "transfer", "lead")
    rows = ComplaintStage.objects.filter(complaint=complaint, stage="department_return").order_by("id")
    assert [r.pk for r in rows][0] == first.pk and rows[0].completed_at is not None
    assert rows.count() == 2 and rows[1].completed_at is None


def test_a_department_function_gets_its_own_limit(org):
    make_policy(targets={"department_return": (1, "working_days"), "department_return ": (6, "clock_hours", "network")})
    with time_machine.travel(MON, tick=False):
        to_network = complaint_in(org, "dispatched")  # payload_for dispatches to the network department
        complaint = complaint_in(org, "processing")
        act(org, complaint, "transfer", "lead")  # to the business support department
    assert ComplaintStage.objects.get(complaint=to_network, stage="department_return").due_at == sh(2025, 10, 13, 16)
    rows = ComplaintStage.objects.filter(complaint=complaint, stage="department_return").order_by("id")
    assert rows[1].due_at == eod(2025, 10, 14)


def test_breach_is_recorded_when_a_stage_completes_late(org):
    make_policy()
    with time_machine.travel(MON, tick=False):
        complaint = register(org.agent)
    with time_machine.travel(sh(2025, 10, 16, 9, 0), tick=False):
        act(org, complaint, "accept", "agent")
    assert stages(complaint)["acceptance"].breached is True


def test_the_policy_version_in_force_at_receipt_is_kept(org):
    old = make_policy("telecom", 1, effective_to=sh(2025, 10, 14, 0, 0))
    make_policy("telecom", 2, effective_from=sh(2025, 10, 14, 0, 0), targets={"reply": (1, "working_days")})
    with time_machine.travel(MON, tick=False):
        complaint = register(org.agent)
    with time_machine.travel(sh(2025, 10, 15, 10, 0), tick=False):
        act(org, complaint, "accept", "agent")
        fresh = register(org.agent)
    reply = stages(complaint)["reply"]
    assert reply.policy_id == old.pk
    assert reply.due_at == eod(2025, 10, 22)  # five working days of version 1, not one of version 2
    assert not ComplaintStage.objects.filter(complaint=fresh).exists()  # version 2 does not time acceptance


def test_a_year_without_calendar_data_records_no_deadline_instead_of_guessing(org, caplog):
    make_policy()
    with time_machine.travel(sh(2031, 3, 3, 10, 0), tick=False):
        complaint = register(org.agent)
    rows = stages(complaint)
    assert rows["acceptance"].due_at is None and rows["acceptance"].warn_at is None
    assert "2031" in rows["acceptance"].calendar_error
    assert "no calendar data" in caplog.text
    # Natural days without holiday roll need no calendar data: the closure stage is timed.
    assert rows["closure"].due_at == eod(2031, 3, 18)
    assert Complaint.objects.get(pk=complaint.pk).due_at == eod(2031, 3, 18)


def test_bulk_registration_times_every_complaint(org):
    from kuaixiang.complaints.intake import parse_complaint_input
    from kuaixiang.complaints.services import complaint_register_bulk

    make_policy()
    items = [
        parse_complaint_input({"channel": "phone", "complainant_phone": "13812345678", "description": f"第{i}条"})
        for i in range(3)
    ]
    with time_machine.travel(MON, tick=False):
        results = complaint_register_bulk(actor=org.agent, items=items)
    ids = [r.complaint.pk for r in results]
    assert ComplaintStage.objects.filter(complaint_id__in=ids, stage="acceptance").count() == 3
    assert set(Complaint.objects.filter(pk__in=ids).values_list("due_at", flat=True)) == {eod(2025, 10, 14)}
