"""Triage at registration: grading rules, repeat complaints, near-duplicates (single and bulk)."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kuaixiang.complaints.intake import parse_complaint_input
from kuaixiang.complaints.models import Complaint
from kuaixiang.complaints.services import complaint_register, complaint_register_bulk, complaint_transition
from kuaixiang.rulepacks import rulepack_load
from kuaixiang.triage import neardup
from kuaixiang.triage.assess import triage_assess
from kuaixiang.triage.models import Category, GradingRule
from tests.personas import register

GRADING = Path(settings.BASE_DIR) / "rulepacks" / "telecom" / "grading.yaml"
T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
LONG = (
    "我家小区的宽带从上周五开始就一直断网，打了三次客服电话都说会派人上门，但到现在也没有人来处理，严重影响孩子上网课"
)


@pytest.fixture
def rules(org):
    rulepack_load(GRADING)


def data(**fields):
    return parse_complaint_input(
        {"channel": "phone", "complainant_phone": "13812345678", "description": "手机没有信号", **fields}
    )


def codes(complaint):
    return [rule["code"] for rule in complaint.grading["rules"]]


class TestGradingAtRegistration:
    def test_safety_words_make_a_major_complaint_flagged_safety_with_the_reason(self, rules, org):
        c = register(org.agent, description="家里的光猫突然冒烟起火，差点烧到窗帘")
        c.refresh_from_db()
        assert (c.severity, c.flags, c.validity, c.intent) == ("major", ["safety"], "valid", "grievance")
        (rule,) = c.grading["rules"]
        assert (rule["code"], rule["name"], rule["version"]) == ("major-safety", "安全隐患", 1)
        assert rule["why"] == ["内容含「冒烟」"]
        event = c.events.get()
        assert (event.payload["severity"], event.payload["rules"]) == ("major", ["major-safety"])

    def test_the_deadline_follows_the_graded_severity(self, rules, org):
        plain = register(org.agent, description="手机没有信号")
        major = register(org.agent, complainant_phone="13900000000", description="我要向工信部投诉你们")
        assert (plain.severity, major.severity) == ("general", "major")
        assert set(codes(major)) == {"major-regulator"} and major.flags == ["government"]

    def test_the_agents_own_higher_severity_stays(self, rules, org):
        assert register(org.agent, description="家里起火了", severity="urgent").severity == "urgent"

    def test_claim_of_100000_is_major_and_anonymous_without_phone_is_invalid(self, rules, org):
        big = register(org.agent, description="多收了费用", amount_claimed="100000")
        anonymous = register(org.agent, anonymous=True, complainant_phone=None, description="营业厅服务太差了")
        assert big.severity == "major" and "major-amount" in codes(big)
        assert (anonymous.validity, anonymous.validity_reason) == ("invalid", "no_contact")

    def test_without_rules_complaints_keep_the_defaults(self, org):
        c = register(org.agent, description="家里起火了")
        assert (c.severity, c.flags, c.grading["rules"]) == ("general", [], [])
        assert c.simhash == neardup.simhash("家里起火了")

    def test_a_new_or_changed_rule_applies_to_the_next_registration(self, rules, org):
        register(org.agent, description="网络太差")
        GradingRule.objects.create(
            code="net-word", name="网络", when={"keywords": ["网络"]}, then={"severity": "urgent"}
        )
        assert register(org.agent, complainant_phone="13900000001", description="网络太差").severity == "urgent"
        rule = GradingRule.objects.get(code="net-word")
        rule.active = False
        rule.save()
        assert register(org.agent, complainant_phone="13900000002", description="网络太差").severity == "general"


class TestRepeats:
    def test_same_phone_same_category_subtree_within_the_window_is_a_repeat_and_important(self, rules, org):
        with time_machine.travel(T0, tick=False):
            first = register(org.agent, description="手机没有信号", category_id=org.leaf.pk)
        with time_machine.travel(T0 + timedelta(days=10), tick=False):
            second = register(org.agent, description="打电话总是断线", category_id=org.leaf.parent_id)
        assert second.repeat_of_id == first.pk and second.grading["repeat_of"] == first.number
        assert second.severity == "important" and "important-repeat" in codes(second)
        assert first.repeat_of_id is None and first.severity == "general"

    def test_a_different_phone_another_subject_or_outside_the_window_is_not_a_repeat(self, rules, org):
        bill = Category.objects.create(name="计费", code="bill")
        with time_machine.travel(T0, tick=False):
            register(org.agent, description="手机没有信号", category_id=org.leaf.pk)
        with time_machine.travel(T0 + timedelta(days=1), tick=False):
            other_phone = register(org.agent, complainant_phone="13900000000", category_id=org.leaf.pk)
            other_subject = register(org.agent, description="本月话费多扣了五十元", category_id=bill.pk)
        with time_machine.travel(T0 + timedelta(days=settings.KX_REPEAT_WINDOW_DAYS + 1), tick=False):
            late = register(org.agent, description="还是没有信号", category_id=org.leaf.pk)
        assert [c.repeat_of_id for c in (other_phone, other_subject, late)] == [None, None, None]

    def test_a_near_duplicate_text_from_the_same_phone_is_a_repeat_without_categories(self, rules, org):
        first = register(org.agent, description=LONG)
        second = register(org.agent, description=LONG + "！")
        assert second.repeat_of_id == first.pk and second.severity == "important"

    def test_the_repeat_points_at_the_most_recent_earlier_complaint(self, rules, org):
        with time_machine.travel(T0, tick=False):
            register(org.agent, category_id=org.leaf.pk)
        with time_machine.travel(T0 + timedelta(days=1), tick=False):
            middle = register(org.agent, description="还是没有信号", category_id=org.leaf.pk)
        with time_machine.travel(T0 + timedelta(days=2), tick=False):
            third = register(org.agent, description="信号依旧很差", category_id=org.leaf.pk)
        assert third.repeat_of_id == middle.pk


class TestNearDuplicates:
    def test_an_open_near_duplicate_from_anyone_is_linked(self, rules, org):
        first = register(org.agent, description=LONG)
        other = register(org.agent, complainant_phone="13900000000", description=LONG.replace("三次", "三次！"))
        assert other.duplicate_of_id == first.pk and other.repeat_of_id is None
        assert other.grading["duplicate_of"] == first.number and other.grading["duplicate_distance"] <= 3

    def test_closed_complaints_are_not_offered_as_duplicates(self, rules, org):
        first = register(org.agent, description=LONG)
        complaint_transition(complaint_id=first.pk, action="refuse", actor=org.agent, data={"reason": "非本公司业务"})
        other = register(org.agent, complainant_phone="13900000000", description=LONG)
        assert other.duplicate_of_id is None

    def test_a_text_without_letters_has_no_fingerprint(self, org):
        c = register(org.agent, description="？？？")
        assert (c.simhash, c.simhash_b0, c.duplicate_of_id) == (None, None, None)


class TestBulk:
    def test_links_inside_one_batch_are_set_after_the_insert(self, rules, org):
        items = [
            data(description=LONG),
            data(description=LONG),  # same phone, same text: repeat (and duplicate) of item 0
            data(complainant_phone="13900000000", description=LONG + "。"),  # duplicate only
        ]
        results = complaint_register_bulk(actor=org.agent, items=items)
        first, second, third = (Complaint.objects.get(pk=r.complaint.pk) for r in results)
        assert (second.repeat_of_id, second.duplicate_of_id) == (first.pk, first.pk)
        assert second.severity == "important" and second.grading["repeat_of"] == first.number
        assert (third.repeat_of_id, third.duplicate_of_id) == (None, first.pk)
        assert third.grading["duplicate_of"] == first.number

    def test_ten_households_on_one_subject_make_the_tenth_major_and_group(self, rules, org):
        items = [
            data(complainant_phone=f"139000000{i:02d}", subject="阳光小区基站", description=f"{i}号楼手机没信号")
            for i in range(10)
        ]
        results = complaint_register_bulk(actor=org.agent, items=items)
        graded = [Complaint.objects.get(pk=r.complaint.pk) for r in results]
        assert [c.severity for c in graded] == ["general"] * 9 + ["major"]
        assert graded[-1].flags == ["group"] and "major-group-subject" in codes(graded[-1])
        assert graded[-1].grading["rules"][0]["why"] == ["30 天内同一被投诉对象同类投诉 10 件（≥ 10）"]

    def test_the_same_subject_in_another_category_is_another_group(self, rules, org):
        items = [
            data(
                complainant_phone=f"139000000{i:02d}",
                subject="阳光小区基站",
                description=f"{i}号楼手机没信号",
                category_id=(org.leaf if i % 2 else org.category).pk,
            )
            for i in range(12)
        ]
        results = complaint_register_bulk(actor=org.agent, items=items)
        assert {Complaint.objects.get(pk=r.complaint.pk).severity for r in results} == {"general"}

    def test_assessment_queries_do_not_grow_with_the_batch(self, rules, org):
        def queries(n, offset):
            made = [
                Complaint(
                    channel="phone",
                    complainant_phone=f"13{offset + i:09d}",
                    subject=f"对象{i % 3}",
                    description=f"第{i}条：{LONG[i:]}",
                    category_id=org.leaf.pk,
                    received_at=T0,
                )
                for i in range(n)
            ]
            with CaptureQueriesContext(connection) as ctx:
                triage_assess(made, now=T0)
            return len(ctx.captured_queries)

        register(org.agent, subject="对象1", description=LONG, category_id=org.leaf.pk)
        assert queries(3, 100) == queries(30, 200) <= 8

    def test_bulk_and_single_registration_grade_alike(self, rules, org):
        (result,) = complaint_register_bulk(actor=org.agent, items=[data(description="我要去法院起诉你们")])
        single = complaint_register(
            actor=org.agent, data=data(complainant_phone="13900000000", description="我要去法院起诉你们")
        )
        bulk = Complaint.objects.get(pk=result.complaint.pk)
        assert (bulk.severity, bulk.flags, codes(bulk)) == (
            single.complaint.severity,
            single.complaint.flags,
            codes(single.complaint),
        )
