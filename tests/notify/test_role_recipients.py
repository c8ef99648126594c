"""Escalation recipients resolved for many complaints at once: the same people as one by one,
duty roster included, with a number of queries that does not grow with the complaints."""

from datetime import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kuaixiang.clock import SHANGHAI
from kuaixiang.complaints.lifecycle import State
from kuaixiang.notify.models import Notification
from kuaixiang.notify.services import _role_recipients, notifications_escalate_many, role_recipients_many
from tests.lifecycle_paths import complaint_in
from tests.org.duty_helpers import person, shift

NOON = datetime(2026, 11, 23, 12, 0, tzinfo=SHANGHAI)
EVERY_ROLE = ["assignee", "handler", "head", "lead", "manager", "leader"]


@pytest.fixture
def complaints(org):
    """A: handled by branch A's network department. B: the same complaint seen as one of branch B
    (handling and intake department, assignee) — only read here, never saved."""
    a = complaint_in(org, State.PROCESSING)
    b = complaint_in(org, State.PROCESSING)
    b.department_id, b.intake_department_id, b.assignee_id = org.other_network.pk, org.other_centre.pk, org.outsider.pk
    return a, b


@pytest.fixture
def roster(org):
    """head2 on duty in the network department; leader_b on duty in branch A (leader_a is not);
    leader2 on duty at HQ."""
    head2 = person("head2", org.network, "head")
    person("leader_a", org.branch, "leader")
    leader_b = person("leader_b", org.branch, "leader")
    leader2 = person("leader2", org.hq_leaders, "leader")
    shift(org, head2, org.network, "head", NOON.date(), "08:00", "20:00")
    shift(org, leader_b, org.branch, "leader", NOON.date(), "08:00", "20:00")
    shift(org, leader2, org.hq_leaders, "leader", NOON.date(), "08:00", "20:00")


def names(users) -> set[str]:
    return {u.username for u in users}


def test_a_batch_reaches_the_same_people_as_one_by_one(org, complaints, roster):
    a, b = complaints
    items = [(a, EVERY_ROLE), (b, EVERY_ROLE), (a, ["lead"]), (b, []), (a, ["leader", "handler"])]
    with time_machine.travel(NOON, tick=False):
        batch = role_recipients_many(items)
        alone = [_role_recipients(complaint, roles) for complaint, roles in items]
    assert [names(users) for users in batch] == [names(users) for users in alone]
    assert [names(users) for users in batch] == [
        {"handler", "head2", "lead", "manager", "leader_b"},  # the roster narrows head and leader
        # Branch B has no head, lead, manager or leader: the duty leaders at depth ≤ 1, which takes
        # in branch A's node as well as HQ's leadership group (the rule as it stands).
        {"outsider", "leader2", "leader_b"},
        {"lead"},
        set(),
        {"leader_b", "handler"},
    ]


def test_off_shift_everyone_with_the_role_is_told(org, complaints, roster):
    a, b = complaints
    with time_machine.travel(NOON.replace(hour=22), tick=False):
        batch = role_recipients_many([(a, ["head", "leader"]), (b, ["leader"])])
    assert names(batch[0]) == {"head", "head2", "leader_a", "leader_b"}
    assert names(batch[1]) == {"leader", "leader2", "leader_a", "leader_b"}  # every leader at depth ≤ 1


def test_inactive_people_are_left_out(org, complaints):
    a, _ = complaints
    org.lead.is_active = False
    org.lead.save(update_fields=["is_active"])
    org.handler.is_active = False
    org.handler.save(update_fields=["is_active"])
    assert role_recipients_many([(a, ["assignee", "handler", "lead", "manager"])]) == [[org.manager]]


def test_the_number_of_queries_does_not_grow_with_the_complaints(org, complaints, roster):
    a, b = complaints
    counts = []
    for n in (1, 10):
        with time_machine.travel(NOON, tick=False), CaptureQueriesContext(connection) as ctx:
            found = role_recipients_many([(a, EVERY_ROLE), (b, EVERY_ROLE)] * n)
        assert len(found) == 2 * n
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1] <= 7
    assert role_recipients_many([]) == []


def test_one_outbox_insert_for_many_escalations(org, complaints, roster):
    a, b = complaints
    Notification.objects.all().delete()
    items = [(a, ["assignee", "head"], "回单即将超时（1 级督办）", "回单时限：…"), (b, ["assignee"], "答复已超时", "")]
    with time_machine.travel(NOON, tick=False), CaptureQueriesContext(connection) as ctx:
        rows = notifications_escalate_many(items=items)
    assert sum(q["sql"].startswith("INSERT") for q in ctx.captured_queries) == 1
    inbox = {(n.complaint_id, n.recipient.username, n.subject) for n in rows if n.channel == "inbox"}
    assert inbox == {
        (a.pk, "handler", f"【{a.number}】回单即将超时（1 级督办）"),
        (a.pk, "head2", f"【{a.number}】回单即将超时（1 级督办）"),
        (b.pk, "outsider", f"【{b.number}】答复已超时"),
    }
    emails = {n.address for n in rows if n.channel == "email"}
    assert emails == {"handler@example.cn"}  # head2 and outsider have no address
    assert Notification.objects.count() == len(rows) == 4
