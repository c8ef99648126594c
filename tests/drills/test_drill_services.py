"""Drills end to end in the sandbox: start from a surge, mark steps on the drill clock, score."""

from datetime import timedelta

import pytest
import time_machine

from kuaixiang.complaints.models import Complaint
from kuaixiang.crisis.models import Incident, IncidentTask
from kuaixiang.drills.models import Drill, DrillStep
from kuaixiang.drills.services import (
    drill_advance,
    drill_finish,
    drill_incident_action,
    drill_now,
    drill_start,
    drill_task_done,
)
from kuaixiang.errors import Conflict, Forbidden, InvalidInput, NotFound
from kuaixiang.notify.models import Notification
from tests.drills.conftest import SMALL, START


def start(org, playbook="telecom_crisis", scenario=SMALL, speed=60, actor=None):
    with time_machine.travel(START, tick=False):
        return drill_start(playbook=playbook, scenario=scenario, actor=actor or org.manager, speed=speed)


def task(drill, key):
    return IncidentTask.objects.get(incident_id=drill.incident_id, key=key)


def test_a_surge_raises_the_warning_that_opens_the_playbook_incident_in_the_sandbox(drill_org):
    drill = start(drill_org)
    assert drill.status == Drill.Status.RUNNING
    assert drill.activation == Drill.Activation.WARNING
    assert drill.registered == 110 + 5
    assert any(w["rule"] == "cat5-day" and w["level"] == 3 for w in drill.warnings)
    incident = drill.incident
    assert incident.sandbox and incident.unit.code == "sandbox" and incident.playbook.code == "telecom_crisis"
    assert drill.origin == incident.activated_at <= START
    # The surge went through intake into the sandbox only; nobody real is told, nothing by e-mail.
    assert not Complaint.objects.exclude(intake_department__code__startswith="sandbox").exists()
    assert not Notification.objects.exclude(recipient__username__startswith="sandbox-").exists()
    assert not Notification.objects.filter(channel__in=["email", "webhook"]).exists()


def test_a_playbook_the_surge_does_not_activate_is_started_by_the_drill(drill_org):
    drill = start(drill_org, playbook="property_major")
    assert drill.activation == Drill.Activation.MANUAL
    assert drill.incident.sandbox and drill.incident.playbook.code == "property_major"
    assert drill.incident.linked_count == drill.registered


def test_steps_are_scored_on_the_drill_clock(drill_org):
    drill = start(drill_org)  # 60×: one real minute is one drill hour
    origin = drill.origin
    fix = task(drill, "fix")
    assert fix.due_at == origin + timedelta(hours=2)
    # 90 real seconds later it is 1.5 drill hours later: in time.
    with time_machine.travel(START + timedelta(seconds=90), tick=False):
        assert drill_now(drill) == origin + timedelta(minutes=90)
        drill_task_done(drill_id=drill.pk, task_id=fix.pk, actor=drill_org.manager)
    # The script step is done 3 drill hours in: one hour late.
    with time_machine.travel(START + timedelta(minutes=3), tick=False):
        drill_task_done(drill_id=drill.pk, task_id=task(drill, "script").pk, actor=drill_org.pr)
    with time_machine.travel(START + timedelta(minutes=4), tick=False):
        finished = drill_finish(drill_id=drill.pk, actor=drill_org.manager, notes="口径发布偏慢")
    steps = {s.key: s for s in DrillStep.objects.filter(drill=finished)}
    assert steps["initial_report"].outcome == "met"  # the initial report went out at activation
    assert steps["fix"].outcome == "met" and steps["fix"].points == 100
    assert (steps["script"].outcome, steps["script"].late_seconds, steps["script"].points) == ("late", 3600, 25)
    assert steps["branches"].outcome == "missed" and steps["branches"].late_seconds == 2 * 3600
    assert steps["special_report"].outcome == steps["hourly"].outcome == "unscored"
    assert finished.score == round((100 + 100 + 25 + 0) / 4, 1)
    assert finished.drill_finished_at == drill.origin + timedelta(hours=4)
    # The drill incident is closed at drill time when the drill ends.
    incident = Incident.objects.get(pk=drill.incident_id)
    assert incident.status == Incident.Status.CLOSED and incident.closed_at == finished.drill_finished_at


def test_closing_the_incident_starts_the_special_report_clock_and_skipping_ahead_counts(drill_org):
    drill = start(drill_org, speed=1)
    with time_machine.travel(START + timedelta(seconds=10), tick=False):
        drill_advance(drill_id=drill.pk, minutes=60, actor=drill_org.manager)
        drill_incident_action(drill_id=drill.pk, action="close", actor=drill_org.manager)
        drill.refresh_from_db()
        now = drill_now(drill)
    assert now == drill.origin + timedelta(minutes=60, seconds=10)
    incident = Incident.objects.get(pk=drill.incident_id)
    assert incident.closed_at == now
    special = task(drill, "special_report")
    assert special.state == IncidentTask.State.OPEN and special.due_at > incident.closed_at
    with time_machine.travel(START + timedelta(seconds=20), tick=False):
        drill_task_done(drill_id=drill.pk, task_id=special.pk, actor=drill_org.leader)
        finished = drill_finish(drill_id=drill.pk, actor=drill_org.leader)
    assert DrillStep.objects.get(drill=finished, key="special_report").outcome == "met"


def test_only_managers_run_drills_and_only_owners_mark_steps(drill_org):
    with pytest.raises(Forbidden):
        start(drill_org, actor=drill_org.agent)
    assert not Drill.objects.exists()
    drill = start(drill_org)
    with time_machine.travel(START, tick=False):
        with pytest.raises(Forbidden):  # the PR step belongs to PR
            drill_task_done(drill_id=drill.pk, task_id=task(drill, "script").pk, actor=drill_org.handler)
        with pytest.raises(Forbidden):
            drill_advance(drill_id=drill.pk, minutes=10, actor=drill_org.pr)
        with pytest.raises(Forbidden):
            drill_finish(drill_id=drill.pk, actor=drill_org.pr)
        drill_task_done(drill_id=drill.pk, task_id=task(drill, "script").pk, actor=drill_org.pr)
        with pytest.raises(Conflict):
            drill_task_done(drill_id=drill.pk, task_id=task(drill, "script").pk, actor=drill_org.pr)
        with pytest.raises(Conflict):  # counted from closing: not started yet
            drill_task_done(drill_id=drill.pk, task_id=task(drill, "special_report").pk, actor=drill_org.manager)
        with pytest.raises(NotFound):
            drill_task_done(drill_id=drill.pk, task_id=10**9, actor=drill_org.manager)


def test_one_running_drill_at_a_time(drill_org):
    drill = start(drill_org)
    with pytest.raises(Conflict):
        start(drill_org)
    with time_machine.travel(START, tick=False):
        drill_finish(drill_id=drill.pk, actor=drill_org.manager)
        with pytest.raises(Conflict):
            drill_finish(drill_id=drill.pk, actor=drill_org.manager)
    second = start(drill_org)
    assert second.pk != drill.pk and Drill.objects.count() == 2


@pytest.mark.parametrize(
    ("playbook", "scenario", "speed", "code"),
    [
        ("nope", SMALL, 60, "unknown_playbook"),
        ("", SMALL, 60, "unknown_playbook"),
        ("telecom_crisis", {"kind": "magic"}, 60, "invalid_scenario"),
        ("telecom_crisis", {**SMALL, "burst": 0}, 60, "invalid_scenario"),
        ("telecom_crisis", {**SMALL, "hours": "3"}, 60, "invalid_scenario"),
        ("telecom_crisis", {"kind": "recorded"}, 60, "invalid_scenario"),
        ("telecom_crisis", {"kind": "recorded", "csv": "a,b\n1,2\n"}, 60, "invalid_scenario"),
        ("telecom_crisis", {"kind": "recorded", "csv": "received_at,channel,category,text\n"}, 60, "invalid_scenario"),
        ("telecom_crisis", SMALL, 0, "invalid_speed"),
        ("telecom_crisis", SMALL, 10**6, "invalid_speed"),
    ],
)
def test_bad_input_is_refused_and_nothing_written(drill_org, playbook, scenario, speed, code):
    with pytest.raises(InvalidInput) as caught:
        start(drill_org, playbook=playbook, scenario=scenario, speed=speed)
    assert caught.value.code == code
    assert not Drill.objects.exists() and not Complaint.objects.exists()


def test_a_recorded_stream_is_replayed(drill_org):
    lines = ["received_at,channel,category,text,phone"]
    lines += [f"2026-03-02T09:{i % 60:02d}:00,微博,账单,乱扣费第{i}次,138{i:08d}" for i in range(12)]
    lines += ["not a time,微博,账单,x,"]
    drill = start(drill_org, playbook="property_major", scenario={"kind": "recorded", "csv": "\n".join(lines)})
    assert (drill.rows, drill.registered, drill.skipped_rows) == (13, 12, 1)
    assert drill.scenario == {"kind": "recorded", "rows": 13}
    # No warning activates the property plan: it starts at the last replayed complaint's time.
    assert drill.activation == Drill.Activation.MANUAL


def test_a_scenario_with_nothing_registrable_writes_nothing(drill_org):
    csv = "received_at,channel,category,text\nnot a time,微博,账单,x\n"
    with pytest.raises(InvalidInput):
        start(drill_org, playbook="property_major", scenario={"kind": "recorded", "csv": csv})
    assert not Drill.objects.exists() and not Incident.objects.exists()


def test_a_new_drill_closes_sandbox_incidents_left_open_and_opens_a_fresh_one(drill_org):
    from kuaixiang.alerts.replay import CategoryMap
    from kuaixiang.alerts.sandbox import sandbox_build
    from kuaixiang.crisis.services import incident_open
    from kuaixiang.drills.services import DEFAULT_BURST_CATEGORY
    from kuaixiang.triage.models import Category

    # An open sandbox incident on the surge's category would otherwise absorb the new warning.
    category = Category.objects.get(pk=CategoryMap().resolve(DEFAULT_BURST_CATEGORY))
    with time_machine.travel(START - timedelta(days=1), tick=False):
        stale = incident_open(
            playbook="telecom_crisis",
            title="遗留演练事件",
            actor=None,
            sandbox=True,
            unit=sandbox_build(),
            match_category=category,
        )
    drill = start(drill_org)
    assert drill.activation == Drill.Activation.WARNING and drill.incident_id != stale.pk
    assert Incident.objects.get(pk=stale.pk).status == Incident.Status.CLOSED
