"""Playbook rules as values: activation, per-level amounts, deadline verdicts."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from kuaixiang.crisis.criteria import Criteria, criteria_met, deadline_verdict, step_amount

DUE = datetime(2025, 10, 11, 15, 59, 59, tzinfo=UTC)


def test_any_one_criterion_activates_the_plan():
    plan = Criteria(min_level=3, rule_codes=frozenset({"escalated-month"}), flags=frozenset({"government"}))
    assert criteria_met(plan, level=3, rule_code="cat5-day")
    assert not criteria_met(plan, level=2, rule_code="cat5-day")
    assert criteria_met(plan, level=1, rule_code="escalated-month")
    assert criteria_met(plan, level=None, rule_code=None, flags=["government"])
    assert not criteria_met(plan, level=None, rule_code=None, flags=["media"])


def test_a_plan_without_criteria_opens_only_by_hand():
    assert not criteria_met(Criteria(), level=3, rule_code="cat5-day", flags=["government"])


@given(st.integers(1, 3), st.integers(1, 3))
def test_a_higher_warning_meets_what_a_lower_one_meets(level, minimum):
    plan = Criteria(min_level=minimum)
    if criteria_met(plan, level=level, rule_code=None):
        assert criteria_met(plan, level=min(level + 1, 3), rule_code=None)


def test_the_public_opinion_report_deadline_depends_on_the_level():
    by_level = {"blue": 120, "yellow": 72, "orange": 24, "red": 24}
    assert step_amount(Decimal(120), by_level, "yellow") == Decimal(72)
    assert step_amount(Decimal(120), {}, "red") == Decimal(120)


def test_deadline_verdicts():
    assert deadline_verdict(DUE, DUE, DUE) == "met"
    assert deadline_verdict(DUE, DUE + timedelta(seconds=1), DUE) == "missed"
    assert deadline_verdict(DUE, None, DUE - timedelta(hours=1)) == "pending"
    assert deadline_verdict(DUE, None, DUE + timedelta(seconds=1)) == "missed"
    assert deadline_verdict(None, None, DUE) == "waiting"
