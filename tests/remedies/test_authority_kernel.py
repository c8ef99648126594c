"""The pure authority arithmetic: inclusive limits and level-by-level ladders."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kuaixiang.remedies.authority import Limit, ladder, verdict

TELECOM = [
    Limit("agent", Decimal(100)),
    Limit("lead", Decimal(500)),
    Limit("manager", Decimal(5000)),
    Limit("leader", None),
]
amounts = st.decimals(min_value=0, max_value=10**7, places=2, allow_nan=False, allow_infinity=False)


@given(amount=amounts)
def test_a_limit_is_inclusive(amount):
    limit = Limit("agent", Decimal(100))
    assert verdict(limit, amount=amount).alone == (amount <= 100)


@given(amount=amounts, used=amounts)
def test_the_month_ceiling_counts_what_was_used(amount, used):
    limit = Limit("agent", None, Decimal(2000))
    assert verdict(limit, amount=amount, month_used=used).alone == (used + amount <= 2000)


@given(amount=amounts, already=amounts)
def test_the_complaint_ceiling_counts_what_the_complaint_already_got(amount, already):
    limit = Limit("lead", Decimal(500))
    assert verdict(limit, amount=amount, complaint_total=already).alone == (already + amount <= 500)


def test_no_rule_means_no_authority_and_negative_amounts_are_errors():
    assert verdict(None, amount=Decimal(0)).reason == "no_authority"
    with pytest.raises(ValueError):
        verdict(TELECOM[0], amount=Decimal(-1))


@given(amount=amounts, start=st.sampled_from(TELECOM[:3]))
def test_the_ladder_ends_at_the_first_level_that_covers_the_amount(amount, start):
    chain = ladder(TELECOM, requester=start, amount=amount)
    ceilings = {limit.role: limit for limit in TELECOM}
    assert chain, "the leader covers everything"
    assert start.role not in chain
    assert ceilings[chain[-1]].covers_amount(amount)
    assert all(not ceilings[role].covers_amount(amount) for role in chain[:-1])
    order = [limit.role for limit in TELECOM]
    assert chain == order[order.index(start.role) + 1 : order.index(chain[-1]) + 1]


def test_a_policy_exception_climbs_to_a_role_that_may_grant_one():
    limits = [Limit("lead", Decimal(500)), Limit("manager", Decimal(5000), policy_exception=True)]
    assert ladder(limits, requester=None, amount=Decimal(10), policy_exception=True) == ["lead", "manager"]
    assert ladder(limits, requester=None, amount=Decimal(10)) == ["lead"]
    assert ladder(limits, requester=None, amount=Decimal(6000)) == []
