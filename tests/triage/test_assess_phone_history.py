"""Triage of a phone with many complaints: repeats and phone history counts stay right and bounded."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from kuaixiang.complaints.models import Complaint
from kuaixiang.complaints.services import complaint_register_bulk
from kuaixiang.triage import assess
from kuaixiang.triage.assess import triage_assess
from kuaixiang.triage.models import Category, GradingRule
from tests.complaints.test_complaint_triage import data

T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
PHONE = "13812345678"
GENERAL = {"severity": "general"}


@pytest.fixture
def phone_rules(org):
    """Two rules that always match and state this phone's counts in their reasons."""
    for days in (7, 30):
        GradingRule.objects.create(
            code=f"calls-{days}", name="来电次数", when={"phone_history": {"days": days, "min": 1}}, then=GENERAL
        )


def phone_counts(complaint) -> dict[int, int]:
    """{days: complaints by this phone}, read back from the reasons the rules give."""
    reasons = [why for rule in complaint.grading["rules"] for why in rule["why"]]
    return {
        int(days): int(n)
        for days, n in (re.fullmatch(r"(\d+) 天内同一电话投诉 (\d+) 件（≥ 1）", r).groups() for r in reasons)
    }


def unsaved(received_at, description="？？？", category=None, phone=PHONE) -> Complaint:
    """A complaint as the bulk registration hands it to triage (no text fingerprint for "？？？")."""
    return Complaint(
        channel="phone",
        complainant_phone=phone,
        description=description,
        category_id=category.pk if category else None,
        received_at=received_at,
    )


def stored(org, *received_days_ago, **fields) -> list[Complaint]:
    items = [data(received_at=T0 - timedelta(days=days), **fields) for days in received_days_ago]
    return [r.complaint for r in complaint_register_bulk(actor=org.agent, items=items)]


class TestPhoneHistoryCounts:
    def test_earlier_batch_items_count_by_their_received_time_in_any_order(self, phone_rules, org):
        batch = [unsaved(T0 - timedelta(days=days)) for days in (1, 20, 3, 40, 2)]
        triage_assess(batch, now=T0)
        assert [phone_counts(c) for c in batch] == [
            {7: 1, 30: 1},
            {7: 2, 30: 2},  # item 0, received later, counts too
            {7: 2, 30: 3},
            {7: 4, 30: 4},  # so does every item before it
            {7: 3, 30: 4},
        ]

    def test_stored_complaints_and_earlier_batch_items_add_up(self, phone_rules, org):
        stored(org, 2, 10, 25, 45)
        stored(org, 1, complainant_phone="13900000000")
        batch = [unsaved(T0 - timedelta(days=5)), unsaved(T0), unsaved(T0, phone="13900000000")]
        triage_assess(batch, now=T0)
        assert [phone_counts(c) for c in batch] == [
            {7: 3, 30: 4},  # not the one 45 days ago
            {7: 3, 30: 5},
            {7: 2, 30: 2},
        ]


class TestRepeatsOfABusyPhone:
    def test_the_most_recent_same_subject_complaint_is_the_repeat_among_many_others(self, org):
        bill = Category.objects.create(name="计费", code="bill")
        _, latest_leaf = stored(org, 9, 8, category_id=org.leaf.pk)
        *_, latest_bill = stored(org, *range(7, 0, -1), category_id=bill.pk)  # registered later
        batch = [unsaved(T0, category=org.leaf), unsaved(T0, category=bill)]
        assessed = triage_assess(batch, now=T0)
        assert [c.repeat_of_id for c in batch] == [latest_leaf.pk, latest_bill.pk]
        assert assessed.pending == []

    def test_a_batch_item_registered_earlier_is_the_repeat_whatever_its_received_time(self, org):
        stored(org, 3, category_id=org.leaf.pk)
        batch = [unsaved(T0 - timedelta(days=5), category=org.leaf), unsaved(T0, category=org.leaf)]
        assessed = triage_assess(batch, now=T0)
        assert assessed.pending == [(1, "repeat_of", 0)]

    def test_complaints_received_before_the_window_are_counted_but_never_compared(self, org, monkeypatch, settings):
        settings.KX_REPEAT_WINDOW_DAYS = 7
        GradingRule.objects.create(
            code="calls", name="来电", when={"phone_history": {"days": 30, "min": 1}}, then=GENERAL
        )
        stored(org, *range(8, 28), category_id=org.leaf.pk)  # same subject, outside the 7-day window
        compared = count_comparisons(monkeypatch)
        (complaint,) = batch = [unsaved(T0, category=org.leaf)]
        triage_assess(batch, now=T0)
        assert complaint.repeat_of_id is None and compared == []
        assert phone_counts(complaint) == {30: 21}


def count_comparisons(monkeypatch) -> list[tuple]:
    """Record every prior a new complaint is compared with (by subject; texts "？？？" have no fingerprint)."""
    calls: list[tuple] = []
    compare = assess.same_subject_category

    def counting(a, b):
        calls.append((a, b))
        return compare(a, b)

    monkeypatch.setattr(assess, "same_subject_category", counting)
    return calls


class TestWorkPerComplaintIsBounded:
    def test_each_complaint_is_compared_with_at_most_the_last_few_registrations_of_its_phone(self, org, monkeypatch):
        compared = count_comparisons(monkeypatch)
        batch = [unsaved(T0 - timedelta(minutes=i)) for i in range(assess.REPEAT_SCAN + 150)]
        triage_assess(batch, now=T0)
        assert len(compared) == sum(min(i, assess.REPEAT_SCAN) for i in range(len(batch)))
        assert [c.repeat_of_id for c in batch] == [None] * len(batch)

    def test_stored_and_batch_priors_share_the_bound(self, org, monkeypatch):
        monkeypatch.setattr(assess, "REPEAT_SCAN", 5)
        stored(org, *range(1, 9))
        compared = count_comparisons(monkeypatch)
        batch = [unsaved(T0), unsaved(T0), unsaved(T0, phone="13900000000")]
        triage_assess(batch, now=T0)
        assert len(compared) == 5 + 5 + 0

    def test_a_same_subject_complaint_beyond_the_bound_is_not_a_repeat(self, org, monkeypatch):
        monkeypatch.setattr(assess, "REPEAT_SCAN", 5)
        stored(org, 10, category_id=org.leaf.pk)
        stored(org, *range(9, 4, -1))
        batch = [unsaved(T0, category=org.leaf)]
        triage_assess(batch, now=T0)
        assert batch[0].repeat_of_id is None
        monkeypatch.setattr(assess, "REPEAT_SCAN", 6)
        triage_assess(batch, now=T0)
        assert batch[0].repeat_of_id is not None
