"""Digest mode: one message per person per sweep listing all their new escalations; the
timeline still gets one event per complaint and level, never twice."""

import threading

import pytest
import time_machine
from django.db import connection, connections

from kuaixiang.complaints.models import ComplaintEvent
from kuaixiang.notify.models import Notification
from kuaixiang.sla.models import Calendar, DigestItem
from kuaixiang.sla.services import escalations_sweep
from tests.lifecycle_paths import complaint_in
from tests.personas import build_org
from tests.sla.conftest import sh
from tests.sla.policies import make_policy

MON = sh(2025, 10, 13, 10, 0)
LATE = sh(2025, 10, 13, 15, 31)  # levels 1 (warning) and 2 (breach) of department_return are due
LATER = sh(2025, 10, 14, 10, 31)  # level 3: the department head


def three_dispatched(org):
    make_policy(digest=True)
    with time_machine.travel(MON, tick=False):
        return [complaint_in(org, "dispatched") for _ in range(3)]


def inbox(username: str) -> list[Notification]:
    return list(
        Notification.objects.filter(recipient__username=username, channel="inbox", subject__startswith="督办").order_by(
            "id"
        )
    )


def test_one_message_per_person_per_sweep(org):
    complaints = three_dispatched(org)
    Notification.objects.all().delete()
    escalations_sweep(now=LATE)
    for complaint in complaints:
        levels = ComplaintEvent.objects.filter(complaint=complaint, action="escalate").values_list("payload__level")
        assert sorted(x[0] for x in levels) == [1, 2]
    [message] = inbox("handler")
    assert message.subject == "督办汇总：3 张工单新增督办" and message.link == "/supervision/"
    assert all(c.number in message.body for c in complaints)
    assert message.body.count("\n") == 5  # six lines: three complaints × levels 1 and 2
    assert len(inbox("lead")) == 1 and inbox("head") == []
    assert Notification.objects.filter(recipient__username="handler", channel="email").count() == 1
    assert not Notification.objects.filter(complaint__in=complaints).exists()  # no per-complaint messages

    escalations_sweep(now=LATE)  # nothing new: nothing sent
    assert len(inbox("handler")) == 1
    escalations_sweep(now=LATER)
    [head] = inbox("head")
    assert head.subject == "督办汇总：3 张工单新增督办" and "3 级督办" in head.body
    assert len(inbox("handler")) == 1
    assert not DigestItem.objects.filter(sent_at__isnull=True).exists()


def test_without_digest_each_complaint_gets_its_own_message(org):
    make_policy()
    with time_machine.travel(MON, tick=False):
        complaints = [complaint_in(org, "dispatched") for _ in range(2)]
    Notification.objects.all().delete()
    escalations_sweep(now=LATE)
    assert Notification.objects.filter(recipient__username="handler", channel="inbox").count() == 4
    handler = Notification.objects.filter(recipient__username="handler", channel="inbox")
    assert {n.complaint_id for n in handler} == {c.pk for c in complaints}
    assert not DigestItem.objects.exists()


def test_a_long_digest_is_cut_with_a_pointer_to_the_board(org, monkeypatch):
    from kuaixiang.sla import services

    monkeypatch.setattr(services, "DIGEST_LINES", 2)
    three_dispatched(org)
    escalations_sweep(now=LATE)
    [message] = inbox("handler")
    assert message.body.splitlines()[-1] == "……另有 4 条，见督办看板"


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL: SQLite serialises writers")
def test_racing_workers_in_digest_mode_fire_and_list_each_level_once(transactional_db):
    Calendar.objects.get_or_create(code="cn", defaults={"name": "中国法定工作日历"})
    org = build_org()
    complaints = three_dispatched(org)
    Notification.objects.all().delete()
    for at in (LATE, LATER):
        barrier = threading.Barrier(4)
        errors = []

        def sweep(at=at, barrier=barrier, errors=errors):
            try:
                barrier.wait(timeout=30)
                escalations_sweep(now=at)
            except Exception as exc:  # noqa: BLE001 — reported by the assertion below
                errors.append(exc)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=sweep) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
    for complaint in complaints:
        levels = ComplaintEvent.objects.filter(complaint=complaint, action="escalate").values_list("payload__level")
        assert sorted(x[0] for x in levels) == [1, 2, 3]
    lines = [line for n in inbox("handler") for line in n.body.splitlines()]
    assert len(lines) == len(set(lines)) == 6  # every (complaint, level) listed exactly once
    assert not DigestItem.objects.filter(sent_at__isnull=True).exists()
