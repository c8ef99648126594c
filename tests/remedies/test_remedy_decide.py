"""Approving, rejecting and returning steps; delegation; executing exactly once."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from kuaixiang import clock
from kuaixiang.errors import Conflict, Forbidden, InvalidInput
from kuaixiang.notify.models import Notification
from kuaixiang.remedies import services
from kuaixiang.remedies.models import RemedyEvent, StepState
from tests.remedies.conftest import chain_roles, request


def states(remedy):
    return [s.state for s in remedy.steps.filter(round=remedy.round).order_by("order")]


def decide(remedy, actor, action="approve", comment=""):
    return services.remedy_decide(remedy_id=remedy.pk, actor=actor, action=action, comment=comment)


def test_approving_every_step_in_order_approves_the_remedy(matrix, complaint):
    remedy = request(matrix.agent, complaint, Decimal(6000))
    decide(remedy, matrix.manager)
    assert states(remedy) == ["approved", "active", "waiting"]
    decide(remedy, matrix.head)
    remedy = decide(remedy, matrix.leader, comment="同意按规定补偿")
    assert remedy.state == "approved"
    assert states(remedy) == ["approved", "approved", "approved"]
    assert list(RemedyEvent.objects.filter(remedy=remedy).values_list("action", flat=True)) == [
        "request",
        "approve",
        "approve",
        "approve",
    ]
    # The requester hears the outcome; each approver heard when their step began.
    inbox = Notification.objects.filter(channel="inbox")
    assert inbox.filter(recipient=matrix.agent, subject__contains="已批准").exists()
    for approver in (matrix.manager, matrix.head, matrix.leader):
        assert inbox.filter(recipient=approver, subject__contains="待您审批").exists()


def test_only_the_current_approver_may_decide(matrix, complaint):
    remedy = request(matrix.agent, complaint, Decimal(6000))
    for outsider in (matrix.head, matrix.leader, matrix.agent, matrix.lead):
        with pytest.raises(Forbidden) as exc:
            decide(remedy, outsider)
        assert exc.value.code == "not_current_approver"
    assert states(remedy) == ["active", "waiting", "waiting"]


def test_a_rejection_stops_the_chain(matrix, complaint):
    remedy = request(matrix.agent, complaint, Decimal(6000))
    decide(remedy, matrix.manager)
    remedy = decide(remedy, matrix.head, "reject", "非公司责任，不予补偿")
    assert remedy.state == "rejected"
    assert states(remedy) == ["approved", "rejected", "cancelled"]
    with pytest.raises(Conflict) as exc:
        decide(remedy, matrix.leader)
    assert exc.value.code == "remedy_not_pending"
    # A rejected compensation no longer blocks a fresh request on the complaint.
    assert request(matrix.agent, complaint, Decimal(50)).state == "approved"


def test_reject_and_return_need_a_comment(matrix, complaint):
    remedy = request(matrix.agent, complaint, Decimal(300))
    for action in ("reject", "return"):
        with pytest.raises(InvalidInput) as exc:
            decide(remedy, matrix.lead, action, "  ")
        assert exc.value.code == "comment_required"
    with pytest.raises(InvalidInput):
        decide(remedy, matrix.lead, "shrug")


def test_a_returned_remedy_is_amended_and_goes_round_again(matrix, complaint):
    remedy = request(matrix.agent, complaint, Decimal(300))
    decide(remedy, matrix.lead, "return", "请附上故障工单号")
    remedy.refresh_from_db()
    assert remedy.state == "returned"
    with pytest.raises(Forbidden):
        services.remedy_resubmit(remedy_id=remedy.pk, actor=matrix.lead)
    remedy = services.remedy_resubmit(remedy_id=remedy.pk, actor=matrix.agent, amount=Decimal(80))
    # Now within the agent's own authority.
    assert remedy.state == "approved" and remedy.round == 2


def test_a_delegate_approves_while_the_approver_is_away(matrix, complaint):
    today = services.local_today()
    services.delegation_create(
        actor=matrix.lead, delegate_id=matrix.manager.pk, starts_on=today, ends_on=today + timedelta(days=3)
    )
    remedy = request(matrix.agent, complaint, Decimal(300))
    assert chain_roles(remedy) == ["lead"]
    # The delegate hears about the step as well.
    assert Notification.objects.filter(recipient=matrix.manager, subject__contains="待您审批").exists()
    remedy = decide(remedy, matrix.manager, comment="班长休假，代批")
    assert remedy.state == "approved"
    step = remedy.steps.get()
    assert step.decided_by == matrix.manager and step.on_behalf_of == matrix.lead


def test_a_delegation_outside_its_dates_gives_no_right(matrix, complaint):
    today = services.local_today()
    services.delegation_create(
        actor=matrix.lead,
        delegate_id=matrix.manager.pk,
        starts_on=today + timedelta(days=1),
        ends_on=today + timedelta(days=2),
    )
    remedy = request(matrix.agent, complaint, Decimal(300))
    with pytest.raises(Forbidden):
        decide(remedy, matrix.manager)


@pytest.mark.parametrize(
    ("delegate", "starts", "ends", "code"),
    [
        ("lead", 0, 1, "delegate_self"),
        ("manager", 2, 1, "dates_reversed"),
        ("manager", 0, 400, "delegation_too_long"),
    ],
)
def test_bad_delegations_are_refused(matrix, delegate, starts, ends, code):
    today = date(2026, 11, 23)
    with pytest.raises(InvalidInput) as exc:
        services.delegation_create(
            actor=matrix.lead,
            delegate_id=matrix.persona(delegate).pk,
            starts_on=today + timedelta(days=starts),
            ends_on=today + timedelta(days=ends),
        )
    assert exc.value.code == code


def test_an_approved_remedy_is_executed_exactly_once(matrix, complaint):
    remedy = request(matrix.agent, complaint, Decimal(80))
    remedy = services.remedy_execute(remedy_id=remedy.pk, actor=matrix.agent, note="退款流水 R123")
    assert remedy.state == "executed" and remedy.executed_by == matrix.agent
    with pytest.raises(Conflict) as exc:
        services.remedy_execute(remedy_id=remedy.pk, actor=matrix.manager)
    assert exc.value.code == "already_executed"
    with pytest.raises(Conflict):
        request(matrix.lead, complaint, Decimal(10))


def test_a_pending_remedy_cannot_be_executed(matrix, complaint):
    remedy = request(matrix.agent, complaint, Decimal(300))
    with pytest.raises(Conflict) as exc:
        services.remedy_execute(remedy_id=remedy.pk, actor=matrix.agent)
    assert exc.value.code == "remedy_not_approved"
    services.remedy_cancel(remedy_id=remedy.pk, actor=matrix.agent, comment="客户撤诉")
    remedy.refresh_from_db()
    assert remedy.state == "cancelled"
    assert states(remedy) == [StepState.CANCELLED]


def test_approval_steps_escalate_when_late_once_per_level(matrix, complaint):
    remedy = request(matrix.agent, complaint, Decimal(300))
    step = remedy.steps.get()
    assert step.due_at > clock.now()
    later = step.due_at + timedelta(minutes=1)
    assert services.approval_steps_sweep(now=later) == [(step.pk, 1)]
    assert services.approval_steps_sweep(now=later) == []
    step.refresh_from_db()
    assert step.escalation_level == 1 and step.next_check_at > step.due_at
    much_later = step.next_check_at + timedelta(minutes=1)
    assert services.approval_steps_sweep(now=much_later) == [(step.pk, 2)]
    assert Notification.objects.filter(recipient=matrix.leader, subject__contains="审批超时督办").exists()
    assert Notification.objects.filter(recipient=matrix.lead, subject__contains="审批已超时").exists()
    # A decided step is no longer swept.
    decide(remedy, matrix.lead)
    assert services.approval_steps_due(now=much_later + timedelta(days=30)) == []


def test_the_periodic_task_runs_the_sweep(matrix, complaint):
    import time_machine

    from kuaixiang.remedies.tasks import sweep_approval_steps

    remedy = request(matrix.agent, complaint, Decimal(300))
    step = remedy.steps.get()
    with time_machine.travel(step.due_at + timedelta(minutes=1), tick=False):
        assert sweep_approval_steps.call_local() == 1
