"""Requests within and beyond authority: every role × amount at, just below and just above each limit."""

from decimal import Decimal

import pytest

from kuaixiang.errors import Conflict, InvalidInput, NotFound
from kuaixiang.remedies.models import ApprovalStep, AuthorityLedger, Remedy, RemedyEvent, StepState
from tests.personas import register
from tests.remedies.conftest import chain_roles, request

CENT = Decimal("0.01")
# role -> (per-complaint limit, the chain for just above it)
LIMITS = {
    "agent": (Decimal(100), ["lead"]),
    "lead": (Decimal(500), ["manager"]),
    "manager": (Decimal(5000), ["manager", "head", "leader"]),  # over 5,000: the sequential template
}
CASES = [
    (role, limit + delta, delta <= 0) for role, (limit, _) in LIMITS.items() for delta in (-CENT, Decimal(0), CENT)
]


@pytest.mark.parametrize(("role", "amount", "alone"), CASES, ids=[f"{r}-{a}" for r, a, _ in CASES])
@pytest.mark.parametrize("kind", ["compensation", "refund"])
def test_each_role_decides_alone_up_to_its_limit_inclusive(matrix, role, amount, alone, kind):
    complaint = register(matrix.agent)
    remedy = request(matrix.persona(role), complaint, amount, type=kind)
    if alone:
        assert remedy.state == "approved"
        assert remedy.self_approved
        assert chain_roles(remedy) == []
    else:
        assert remedy.state == "pending"
        assert chain_roles(remedy) == LIMITS[role][1]
        first = remedy.steps.get(order=1)
        assert first.state == StepState.ACTIVE and first.due_at is not None


@pytest.mark.parametrize("amount", [Decimal("5000.01"), Decimal("1000000")])
def test_the_leader_has_no_ceiling(matrix, amount):
    remedy = request(matrix.leader, register(matrix.agent), amount)
    assert remedy.state == "approved"


def test_an_agent_between_limits_goes_up_level_by_level(matrix):
    remedy = request(matrix.agent, register(matrix.agent), Decimal("500.01"))
    assert chain_roles(remedy) == ["lead", "manager"]
    assert remedy.chain_name == "逐级审批"


def test_above_5000_uses_the_sequential_template_with_the_responsible_department_head(matrix):
    remedy = request(matrix.agent, register(matrix.agent), Decimal("5000.01"))
    steps = list(remedy.steps.order_by("order"))
    assert [s.role for s in steps] == ["manager", "head", "leader"]
    assert [set(s.approvers.all()) for s in steps] == [{matrix.manager}, {matrix.head}, {matrix.leader}]
    assert [s.state for s in steps] == ["active", "waiting", "waiting"]
    assert remedy.chain_name == "5000 元以上逐级会签"


def test_a_role_without_a_rule_for_the_type_asks_the_lowest_level_above_it(matrix):
    complaint = register(matrix.agent)
    remedy = request(matrix.lead, complaint, Decimal(10), type="special_warranty")
    # lead has no special-warranty authority: the head (技术支持) may approve up to 3,000.
    assert remedy.state == "pending"
    assert chain_roles(remedy) == ["head"]


def test_monthly_limit_sends_the_request_up_once_exhausted(matrix):
    # The agent's monthly ceiling is 2,000: twenty 100-yuan compensations, then a chain.
    for _ in range(20):
        assert request(matrix.agent, register(matrix.agent), 100).state == "approved"
    remedy = request(matrix.agent, register(matrix.agent), 100)
    assert remedy.state == "pending"
    assert chain_roles(remedy) == ["lead"]
    ledger = AuthorityLedger.objects.get(user=matrix.agent, remedy_type="compensation")
    assert ledger.used == Decimal(2000)


def test_policy_exception_needs_a_role_allowed_to_grant_it(matrix):
    remedy = request(matrix.agent, register(matrix.agent), 50, policy_exception=True)
    assert remedy.state == "pending"
    assert chain_roles(remedy) == ["lead", "manager"]


def test_a_complaint_cannot_be_paid_twice(matrix, complaint):
    request(matrix.agent, complaint, 80)
    with pytest.raises(Conflict) as exc:
        request(matrix.lead, complaint, 80)
    assert exc.value.code == "already_requested"
    # A refund is a separate payout; a gift is not a payout and may repeat.
    assert request(matrix.agent, complaint, 30, type="refund").state == "approved"
    request(matrix.agent, complaint, 10, type="gift")
    request(matrix.agent, complaint, 10, type="gift")
    assert Remedy.objects.filter(complaint=complaint).count() == 4


def test_the_database_refuses_a_second_live_payout_even_past_the_service(matrix, complaint):
    from django.db import IntegrityError, transaction

    first = request(matrix.agent, complaint, 80)
    with pytest.raises(IntegrityError), transaction.atomic():
        Remedy.objects.create(
            complaint=complaint,
            type="compensation",
            amount=1,
            responsibility="unclear",
            justification="x",
            state="executed",
            requested_by=matrix.agent,
            department=first.department,
            unit=first.unit,
            created_at=first.created_at,
        )


def test_a_requester_must_see_the_complaint(matrix, complaint):
    with pytest.raises(NotFound):
        request(matrix.outside_agent, complaint, 10)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"type": "cash"}, "invalid_choice"),
        ({"amount": "-1"}, "too_small"),
        ({"amount": "abc"}, "not_a_number"),
        ({"amount": "1.001"}, "too_many_decimals"),
        ({"amount": "0"}, "amount_required"),
        ({"responsibility": "maybe"}, "invalid_choice"),
        ({"justification": ""}, "text_too_short"),
        ({"justification": "a\x00b"}, "nul_character"),
        ({"extra": 1}, "unknown_field"),
    ],
)
def test_bad_input_is_refused_with_a_code_and_nothing_is_written(matrix, complaint, data, code):
    body = {"type": "compensation", "amount": "10", "responsibility": "unclear", "justification": "理由", **data}
    from kuaixiang.remedies import services

    with pytest.raises(InvalidInput) as exc:
        services.remedy_request(complaint_id=complaint.pk, actor=matrix.agent, data=body)
    codes = [f["code"] for f in exc.value.details.get("fields", [])] or [exc.value.code]
    assert code in codes
    assert Remedy.objects.count() == 0 and RemedyEvent.objects.count() == 0 and ApprovalStep.objects.count() == 0
