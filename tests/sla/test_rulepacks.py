"""Every shipped rule pack loads idempotently; loaded together, each pack times only its own complaints."""

from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command

from kuaixiang.rulepacks import rulepack_load
from kuaixiang.sla import selectors
from kuaixiang.sla.models import ComplaintStage, SlaPolicy
from kuaixiang.triage.models import Category
from tests.lifecycle_paths import complaint_in
from tests.personas import register
from tests.sla.conftest import sh

PACKS = ["telecom", "property", "regulator_12315", "factory", "school"]
MON = sh(2025, 10, 13, 10, 0)  # Monday 13 October 2025, 10:00


@pytest.mark.django_db
@pytest.mark.parametrize("pack", PACKS)
def test_each_pack_loads_twice_and_the_second_run_changes_nothing(pack, capsys):
    call_command("load_rulepack", pack)
    capsys.readouterr()
    call_command("load_rulepack", pack)
    out = capsys.readouterr().out
    assert "时限策略" in out and "分类" in out, out
    for line in out.splitlines():
        if "新增" in line:
            assert "新增 0" in line and "更新 0" in line, line
    assert SlaPolicy.objects.exists()


@pytest.mark.django_db
def test_category_codes_of_the_packs_never_clash():
    for pack in PACKS:
        rulepack_load(pack)
    prefixes = {"property": "prop", "regulator_12315": "r12315", "factory": "fac", "school": "sch"}
    for prefix in prefixes.values():
        root = Category.objects.get(code=prefix)
        assert root.level <= 1
        subtree = Category.objects.filter(path__startswith=root.path)
        assert subtree.count() > 10
        assert all(c.code == prefix or c.code.startswith(prefix + "-") for c in subtree)
        assert max(c.level for c in subtree) - root.level < 5


@pytest.fixture
def all_packs(db):
    for pack in PACKS:
        rulepack_load(pack)


def _stage(complaint, stage: str) -> ComplaintStage:
    return ComplaintStage.objects.select_related("policy", "target").get(complaint=complaint, stage=stage)


def _registered(org, code: str, **fields):
    with time_machine.travel(MON, tick=False):
        return register(org.agent, category_id=Category.objects.get(code=code).pk, **fields)


def test_telecom_complaints_keep_telecom_policies_with_all_packs_loaded(org, all_packs):
    with time_machine.travel(MON, tick=False):
        plain = register(org.agent)
        urgent = register(org.agent, severity="urgent", channel="letter")
        letter = register(org.agent, channel="letter", category_id=Category.objects.get(code="net-mob").pk)
    assert _stage(plain, "first_contact").policy.code == "telecom-default"
    assert _stage(urgent, "acceptance").policy.code == "telecom-urgent"
    assert _stage(letter, "acceptance").policy.code == "telecom-letter"


def test_telecom_china_telecom_limits(org, all_packs):
    complaint = _registered(org, "net-mob")
    assert _stage(complaint, "first_contact").due_at == sh(2025, 10, 14, 10, 0)  # 24 h
    assert _stage(complaint, "solution").due_at == sh(2025, 10, 15, 10, 0)  # 48 h
    with time_machine.travel(MON, tick=False):
        upstream = register(org.agent, extra={"upstream": True})
    assert _stage(upstream, "first_contact").policy.code == "telecom-upstream"


def test_property_form_in_ten_minutes_and_major_reply_in_a_day(org, all_packs):
    general = _registered(org, "prop-eng-lift-fault")
    assert _stage(general, "dispatch").due_at == sh(2025, 10, 13, 10, 10)
    major = _registered(org, "prop-mass-households", severity="major")
    assert _stage(major, "dispatch").policy.code == "property-major"
    assert _stage(major, "closure").due_at == sh(2025, 10, 16, 23, 59, 59)
    with time_machine.travel(MON, tick=False):
        accepted = complaint_in(
            org, "accepted", category_id=Category.objects.get(code="prop-mass").pk, severity="major"
        )
    assert _stage(accepted, "reply").due_at == sh(2025, 10, 14, 10, 0)


@pytest.mark.parametrize(
    ("fields", "code", "amount", "unit"),
    [
        ({"severity": "general", "channel": "phone"}, "r12315-general", 3, "working_days"),
        ({"severity": "major", "channel": "phone"}, "r12315-major", 5, "working_days"),
        ({"severity": "urgent", "channel": "hotline_12315"}, "r12315-urgent", 1, "working_days"),
        ({"channel": "hotline_12345"}, "r12315-lines", 5, "working_days"),
        ({"channel": "visit"}, "r12315-lines", 5, "working_days"),
        ({"channel": "letter"}, "r12315-letter", 7, "working_days"),
        ({"channel": "weibo"}, "r12315-social", 24, "clock_hours"),
        ({"channel": "wechat", "extra": {"difficulty": "harder"}}, "r12315-social-harder", 48, "clock_hours"),
        ({"channel": "weibo", "extra": {"difficulty": "complex"}}, "r12315-social-complex", 72, "clock_hours"),
        ({"channel": "media", "extra": {"opinion_blue": True}}, "r12315-opinion-blue", 5, "natural_days"),
        ({"channel": "media", "extra": {"opinion_yellow": True}}, "r12315-opinion-yellow", 3, "natural_days"),
        ({"channel": "media"}, "r12315-opinion-red", 1, "natural_days"),
        ({"channel": "media", "severity": "urgent"}, "r12315-opinion-red", 1, "natural_days"),
    ],
)
def test_12315_reply_limits(org, all_packs, fields, code, amount, unit):
    with time_machine.travel(MON, tick=False):
        complaint = complaint_in(
            org, "accepted", category_id=Category.objects.get(code="r12315-goods-food").pk, **fields
        )
    reply = _stage(complaint, "reply")
    assert reply.policy.code == code
    assert (reply.target.amount, reply.target.unit) == (Decimal(amount), unit)


def test_12315_public_opinion_deadline_rolls_over_the_holiday(org, all_packs):
    with time_machine.travel(sh(2025, 9, 28, 10, 0), tick=False):  # make-up working Sunday before National Day
        complaint = complaint_in(
            org,
            "accepted",
            category_id=Category.objects.get(code="r12315").pk,
            channel="media",
            extra={"opinion_blue": True},
        )
    # 28 Sep + 5 days = 3 Oct, a holiday: moves to the first working day after it, 9 Oct.
    assert _stage(complaint, "reply").due_at == sh(2025, 10, 9, 23, 59, 59)


def test_factory_quality_dept_temporary_measure_8d_and_line_check(org, all_packs):
    complaint = _registered(org, "fac-quality-batch")
    assert _stage(complaint, "dispatch").due_at == sh(2025, 10, 13, 14, 0)  # 4 h
    assert _stage(complaint, "solution").due_at == sh(2025, 10, 14, 23, 59, 59)  # 1 working day
    with time_machine.travel(MON, tick=False):
        returned = complaint_in(org, "returned", category_id=Category.objects.get(code="fac").pk)
    assert _stage(returned, "department_return").target.amount == 7
    assert _stage(returned, "verification").due_at == sh(2025, 10, 15, 10, 0)  # 48 h
    assert _stage(returned, "solution").completed_at is not None


def test_school_limits_by_intent_and_campus_difficulty(org, all_packs):
    with time_machine.travel(MON, tick=False):
        grievance = complaint_in(org, "dispatched", category_id=Category.objects.get(code="sch-teach").pk)
        campus = complaint_in(
            org,
            "dispatched",
            category_id=Category.objects.get(code="sch-svc-facility").pk,
            extra={"campus": True, "difficulty": "complex"},
        )
    assert grievance.intent == "grievance"
    assert _stage(grievance, "first_contact").policy.code == "school-grievance"
    assert _stage(grievance, "first_contact").due_at == sh(2025, 10, 14, 10, 0)  # opinion within 24 h
    assert _stage(grievance, "solution").due_at == sh(2025, 10, 20, 23, 59, 59)  # agreement in 5 working days
    assert _stage(campus, "department_return").policy.code == "school-campus-complex"
    assert _stage(campus, "department_return").due_at == sh(2025, 10, 20, 23, 59, 59)  # 7 natural days
    assert _stage(campus, "dispatch").completed_at is not None


def test_school_suggestions_are_forwarded_reported_and_reviewed(all_packs):
    sch = Category.objects.get(code="sch-fee")
    policies = selectors.policies_in_force(MON)
    keys = {"channel": "phone", "severity": "general", "category_path": sch.path, "department_path": "/1/"}
    assert selectors.policy_match(policies, intent="suggestion", **keys).code == "school-suggestion"
    assert selectors.policy_match(policies, intent="grievance", **keys).code == "school-grievance"
    assert selectors.policy_match(policies, intent="malicious", **keys).code == "school-default"
    suggestion = SlaPolicy.objects.get(code="school-suggestion")
    limits = {t.stage: (t.amount, t.unit) for t in suggestion.targets.all()}
    assert limits == {
        "dispatch": (24, "clock_hours"),
        "department_return": (5, "working_days"),
        "verification": (2, "working_days"),
    }
