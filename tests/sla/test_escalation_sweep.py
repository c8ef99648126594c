"""The escalation sweep fires each level of the ladder once, at its instant, and only for due rows."""

import threading

import pytest
import time_machine
from django.db import connection, connections

from kuaixiang.complaints.models import ComplaintEvent
from kuaixiang.notify.models import Notification
from kuaixiang.sla.models import Calendar, ComplaintStage
from kuaixiang.sla.services import escalations_due, escalations_sweep
from kuaixiang.sla.tasks import sweep_escalations
from tests.lifecycle_paths import complaint_in
from tests.personas import build_org
from tests.sla.conftest import sh
from tests.sla.policies import make_policy

MON = sh(2025, 10, 13, 10, 0)
# department_return: 4 working hours from Mon 10:00 -> due 15:30, warning (75 %) at 14:30.
STEPS = [
    (sh(2025, 10, 13, 14, 31), 1),  # warning point
    (sh(2025, 10, 13, 15, 31), 2),  # breach
    (sh(2025, 10, 14, 10, 31), 3),  # breach + 4 working hours = Tue 10:30
    (sh(2025, 10, 15, 0, 1), 4),  # breach + 1 working day = Tue 23:59:59
]


def escalations(complaint) -> list[tuple[int, str]]:
    events = ComplaintEvent.objects.filter(complaint=complaint, action="escalate").order_by("id")
    return [(e.payload["level"], e.payload["stage"]) for e in events]


def dispatched(org):
    make_policy()
    with time_machine.travel(MON, tick=False):
        return complaint_in(org, "dispatched")


def test_each_level_fires_once_at_its_instant(org):
    complaint = dispatched(org)
    for at, level in STEPS:
        for _ in range(2):  # a second sweep at the same instant finds nothing new
            with time_machine.travel(at, tick=False):
                escalations_sweep(now=at)
        assert escalations(complaint) == [(n, "department_return") for n in range(1, level + 1)]
    stage = ComplaintStage.objects.get(complaint=complaint, stage="department_return")
    assert stage.escalation_level == 4 and stage.breached and stage.next_check_at is None
    event = ComplaintEvent.objects.filter(complaint=complaint, action="escalate").first()
    assert event.from_status == event.to_status == "dispatched" and event.actor is None


def test_escalation_notifies_the_roles_of_each_level(org):
    complaint = dispatched(org)
    Notification.objects.all().delete()
    for at, _ in STEPS:
        escalations_sweep(now=at)
    inbox = Notification.objects.filter(complaint=complaint, channel="inbox")
    by_subject = {}
    for n in inbox.select_related("recipient"):
        by_subject.setdefault(n.subject, set()).add(n.recipient.username)
    assert {"handler"} in by_subject.values()  # level 1: handlers of the network department
    assert {"handler", "lead"} in by_subject.values()  # level 2: plus the centre's team lead
    assert {"head"} in by_subject.values()
    assert {"leader"} in by_subject.values()
    assert Notification.objects.filter(complaint=complaint, channel="email", status="pending").exists()


def test_a_late_sweep_fires_the_missed_levels_in_order(org):
    complaint = dispatched(org)
    escalations_sweep(now=STEPS[-1][0])
    assert [level for level, _ in escalations(complaint)] == [1, 2, 3, 4]


def test_the_sweep_ignores_rows_not_due_and_completed_stages(org, django_assert_num_queries):
    complaint = dispatched(org)
    with django_assert_num_queries(1):
        assert escalations_due(now=sh(2025, 10, 13, 14, 0)) == []
    stage = ComplaintStage.objects.get(complaint=complaint, stage="department_return")
    assert escalations_due(now=sh(2025, 10, 13, 14, 31)) == [stage.pk]
    ComplaintStage.objects.filter(pk=stage.pk).update(completed_at=MON)
    assert escalations_sweep(now=sh(2025, 10, 13, 14, 31)) == []
    assert escalations(complaint) == []


def test_the_periodic_task_runs_the_sweep(org):
    complaint = dispatched(org)
    with time_machine.travel(STEPS[0][0], tick=False):
        sweep_escalations.call_local()
    assert escalations(complaint) == [(1, "department_return")]


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL: SQLite serialises writers")
def test_workers_racing_fire_each_level_exactly_once(transactional_db):
    # An earlier transactional test may have flushed the calendar that migration 0002 creates.
    Calendar.objects.get_or_create(code="cn", defaults={"name": "中国法定工作日历"})
    org = build_org()
    complaint = dispatched(org)
    workers = 4
    for at, _ in STEPS:
        barrier = threading.Barrier(workers)
        errors = []

        def sweep(at=at, barrier=barrier, errors=errors):
            try:
                barrier.wait(timeout=30)
                escalations_sweep(now=at)
            except Exception as exc:  # noqa: BLE001 — reported by the assertion below
                errors.append(exc)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=sweep) for _ in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
    assert escalations(complaint) == [(n, "department_return") for n in range(1, 5)]


def test_each_fired_level_sends_stage_escalated_once(org):
    from kuaixiang.sla.signals import stage_escalated

    complaint = dispatched(org)
    received = []

    def receiver(sender, *, stage, complaint, level, now, **kwargs):
        received.append((stage.pk, stage.escalation_level, complaint.pk, level, now))

    stage_escalated.connect(receiver, dispatch_uid="test_sla_signal")
    try:
        escalations_sweep(now=STEPS[1][0])
        escalations_sweep(now=STEPS[1][0])
    finally:
        stage_escalated.disconnect(dispatch_uid="test_sla_signal")
    stage = ComplaintStage.objects.get(complaint=complaint, stage="department_return")
    assert received == [
        (stage.pk, 1, complaint.pk, 1, STEPS[1][0]),
        (stage.pk, 2, complaint.pk, 2, STEPS[1][0]),
    ]


def test_a_failing_receiver_rolls_the_level_back(org):
    from kuaixiang.sla.signals import stage_escalated

    complaint = dispatched(org)

    def receiver(**kwargs):
        raise RuntimeError("boom")

    stage_escalated.connect(receiver, dispatch_uid="test_sla_signal_fail")
    try:
        escalations_sweep(now=STEPS[0][0])
    finally:
        stage_escalated.disconnect(dispatch_uid="test_sla_signal_fail")
    assert escalations(complaint) == []
    assert ComplaintStage.objects.get(complaint=complaint, stage="department_return").escalation_level == 0


def test_one_failing_stage_does_not_stop_the_others_of_its_batch(org):
    from datetime import timedelta

    from kuaixiang.sla.signals import stage_escalated

    make_policy()
    with time_machine.travel(MON, tick=False):
        complaints = [complaint_in(org, "dispatched") for _ in range(3)]
    bad = complaints[1]

    def receiver(*, complaint, **kwargs):
        if complaint.pk == bad.pk:
            raise RuntimeError("boom")

    stage_escalated.connect(receiver, dispatch_uid="test_sla_signal_one_bad")
    try:
        fired = escalations_sweep(now=STEPS[0][0])
    finally:
        stage_escalated.disconnect(dispatch_uid="test_sla_signal_one_bad")
    assert len(fired) == 2
    assert escalations(complaints[0]) == escalations(complaints[2]) == [(1, "department_return")]
    assert escalations(bad) == []
    stage = ComplaintStage.objects.get(complaint=bad, stage="department_return")
    assert stage.escalation_level == 0 and stage.next_check_at == STEPS[0][0] + timedelta(minutes=15)


def test_a_batch_claim_detects_rows_changed_since_they_were_read(org):
    from django.db import transaction

    from kuaixiang.sla import services

    make_policy()
    with time_machine.travel(MON, tick=False):
        complaints = [complaint_in(org, "dispatched") for _ in range(3)]
    at = STEPS[0][0]
    stale = list(
        ComplaintStage.objects.select_related("complaint", "target__calendar")
        .filter(stage="department_return")
        .order_by("id")
    )
    assert services.stage_escalate(stage_id=stale[0].pk, now=at)  # another worker, after the read
    with pytest.raises(services._Contended), transaction.atomic():
        services._escalate_batch(stale, at, services.Kernels(), None)
    assert [len(escalations(c)) for c in complaints] == [1, 0, 0]  # the batch wrote nothing
    assert len(escalations_sweep(now=at)) == 2
    for complaint in complaints:
        assert escalations(complaint) == [(1, "department_return")]


def test_the_statements_of_a_sweep_do_not_grow_with_the_number_due(org):
    """Recipients, outbox rows, events and claims are written per batch, not per stage (the
    statements of ``stage_escalated`` receivers in other apps are not counted here)."""
    from datetime import timedelta

    from django.test.utils import CaptureQueriesContext

    make_policy()
    counts, fired = [], []
    for day, n in ((0, 2), (1, 7)):
        received = MON + timedelta(days=day)
        with time_machine.travel(received, tick=False):
            complaints = [complaint_in(org, "dispatched") for _ in range(n)]
        at = STEPS[0][0] + timedelta(days=day)  # each batch's warning point
        with CaptureQueriesContext(connection) as ctx:
            fired.append(escalations_sweep(now=at))
        counts.append(sum("alerts_" not in q["sql"] for q in ctx.captured_queries))
        assert all(escalations(c) == [(1, "department_return")] for c in complaints)
        escalated = Notification.objects.filter(complaint__in=complaints, channel="inbox", subject__contains="督办")
        assert escalated.count() == n  # level 1: the assignee, who is the department's only handler
        ComplaintStage.objects.filter(complaint__in=complaints).update(completed_at=at)
    assert [len(f) for f in fired] == [2, 7]
    assert counts[0] == counts[1]
