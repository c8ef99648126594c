"""SLA escalations reach the person on duty for head/lead/manager/leader when the roster has one."""

from datetime import datetime

import pytest
import time_machine

from kuaixiang.clock import SHANGHAI
from kuaixiang.complaints.lifecycle import State
from kuaixiang.notify.models import Notification
from kuaixiang.notify.services import notifications_escalate
from tests.lifecycle_paths import complaint_in
from tests.org.duty_helpers import person, shift

NOON = datetime(2026, 11, 23, 12, 0, tzinfo=SHANGHAI)


@pytest.fixture
def complaint(org):
    return complaint_in(org, State.PROCESSING)


def recipients(complaint, roles) -> set[str]:
    Notification.objects.all().delete()
    with time_machine.travel(NOON, tick=False):
        notifications_escalate(complaint=complaint, roles=roles, label="督办")
    return {n.recipient.username for n in Notification.objects.filter(channel="inbox")}


def test_without_a_roster_everyone_with_the_role_is_told(org, complaint):
    person("lead2", org.centre, "lead")
    assert recipients(complaint, ["lead"]) == {"lead", "lead2"}


def test_with_a_roster_only_the_lead_on_duty_is_told(org, complaint):
    lead2 = person("lead2", org.centre, "lead")
    shift(org, lead2, org.centre, "lead", NOON.date(), "08:30", "17:30")
    assert recipients(complaint, ["lead"]) == {"lead2"}
    # Outside the shift nobody is rostered: back to everyone.
    Notification.objects.all().delete()
    with time_machine.travel(NOON.replace(hour=20), tick=False):
        notifications_escalate(complaint=complaint, roles=["lead"], label="督办")
    assert {n.recipient.username for n in Notification.objects.filter(channel="inbox")} == {"lead", "lead2"}


def test_head_and_manager_on_duty(org, complaint):
    head2 = person("head2", org.network, "head")
    manager2 = person("manager2", org.centre, "manager")
    assert recipients(complaint, ["head", "manager"]) == {"head", "head2", "manager", "manager2"}
    shift(org, head2, org.network, "head", NOON.date(), "00:00", "00:00")
    shift(org, manager2, org.centre, "manager", NOON.date(), "09:00", "18:00")
    assert recipients(complaint, ["head", "manager", "assignee"]) == {"head2", "manager2", "handler"}


def test_handlers_are_never_narrowed(org, complaint):
    shift(org, org.handler, org.network, "handler", NOON.date(), "08:00", "17:00")
    person("handler2", org.network, "handler")
    assert recipients(complaint, ["handler"]) == {"handler", "handler2"}


def test_the_duty_leader_of_the_unit_is_told(org, complaint):
    leader_a = person("leader_a", org.branch, "leader")
    leader_b = person("leader_b", org.branch, "leader")
    assert recipients(complaint, ["leader"]) == {"leader_a", "leader_b"}
    shift(org, leader_b, org.branch, "leader", NOON.date(), "08:00", "08:00")
    assert recipients(complaint, ["leader"]) == {"leader_b"}
    assert leader_a.is_active


def test_a_unit_without_leaders_reaches_the_hq_duty_leader(org, complaint):
    leader2 = person("leader2", org.hq_leaders, "leader")
    assert recipients(complaint, ["leader"]) == {"leader", "leader2"}
    shift(org, leader2, org.hq_leaders, "leader", NOON.date(), "08:00", "08:00")
    assert recipients(complaint, ["leader"]) == {"leader2"}
