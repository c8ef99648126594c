"""incident_open: tasks with stored deadlines, participants, the initial report, permissions, bad input."""

import pytest
import time_machine

from kuaixiang.crisis import selectors, services
from kuaixiang.crisis.models import Incident, IncidentEvent, IncidentTask
from kuaixiang.errors import Forbidden, InvalidInput
from kuaixiang.notify.models import Notification, WebhookEndpoint
from tests.crisis.conftest import local


def _open(org, **kwargs):
    fields = {
        "playbook": "telecom_crisis",
        "title": "全省语音业务故障",
        "description": "呼叫失败",
        "actor": org.hq_manager,
    }
    return services.incident_open(**{**fields, **kwargs})


def test_each_step_becomes_a_task_due_relative_to_activation(crisis_org):
    with time_machine.travel(local(2025, 9, 30, 10, 0), tick=False):
        incident = _open(crisis_org)
    tasks = {t.key: t for t in incident.tasks.all()}
    assert tasks["initial_report"].due_at == local(2025, 9, 30, 11, 0)
    assert tasks["fix"].due_at == local(2025, 9, 30, 12, 0)
    assert tasks["script"].due_at == local(2025, 9, 30, 12, 0)
    assert tasks["special_report"].due_at is None and tasks["special_report"].state == "waiting"
    assert tasks["fix"].next_check_at == tasks["fix"].due_at  # the sweep's timer
    assert incident.severity == "red"  # the playbook's default
    assert incident.unit == crisis_org.hq


def test_the_public_opinion_report_is_due_by_level(crisis_org):
    with time_machine.travel(local(2025, 6, 2, 9, 0), tick=False):
        yellow = _open(crisis_org, playbook="public_opinion", severity="yellow")
        red = _open(crisis_org, playbook="public_opinion", severity="red", title="另一舆情")
    assert yellow.tasks.get(key="investigation_report").due_at == local(2025, 6, 5, 9, 0)
    assert red.tasks.get(key="investigation_report").due_at == local(2025, 6, 3, 9, 0)


def test_roles_resolve_to_people_of_the_unit(crisis_org):
    incident = _open(crisis_org)
    people = {(p.role_key, p.user.username) for p in incident.participants.select_related("user")}
    assert {("commander", "leader"), ("complaint_team", "hq_manager"), ("pr", "pr"), ("leaders", "leader")} <= people


def test_roles_follow_the_duty_roster_when_someone_is_on_shift(crisis_org):
    from datetime import timedelta

    from kuaixiang.org.models import Shift
    from tests.personas import _user

    stand_in = _user("duty_pr", crisis_org.hq_pr, "pr")
    with time_machine.travel(local(2025, 9, 30, 10, 0), tick=False):
        Shift.objects.create(
            date=local(2025, 9, 30).date(),
            start=local(2025, 9, 30, 8, 0).time(),
            end=local(2025, 9, 30, 20, 0).time(),
            user=stand_in,
            role="pr",
            department=crisis_org.hq_pr,
            starts_at=local(2025, 9, 30, 8, 0),
            ends_at=local(2025, 9, 30, 8, 0) + timedelta(hours=12),
        )
        incident = _open(crisis_org)
    assert list(incident.participants.filter(role_key="pr").values_list("user__username", flat=True)) == ["duty_pr"]


def test_the_initial_report_goes_by_email_and_webhook_with_problem_scope_and_count(crisis_org):
    crisis_org.leader.email = "leader@example.cn"
    crisis_org.leader.save()
    WebhookEndpoint.objects.create(name="危机群", format="wecom", url="https://qyapi.example.cn/hook", actions=[])
    WebhookEndpoint.objects.create(name="只收工单", format="wecom", url="https://qyapi.example.cn/2", actions=["reply"])
    incident = _open(crisis_org)
    rows = Notification.objects.filter(subject__contains="危机事件初报")
    assert {(n.channel, n.recipient.username if n.recipient else n.address) for n in rows} >= {
        ("inbox", "leader"),
        ("email", "leader"),
        ("inbox", "pr"),
        ("inbox", "hq_manager"),
        ("webhook", "https://qyapi.example.cn/hook"),
    }
    assert not rows.filter(address="https://qyapi.example.cn/2").exists()
    body = rows.first().body
    assert "投诉问题：呼叫失败" in body and "影响范围" in body and "已关联 0 件" in body
    assert incident.tasks.get(key="initial_report").state == "done"


def test_a_drill_never_sends_email_or_webhooks(crisis_org):
    crisis_org.leader.email = "leader@example.cn"
    crisis_org.leader.save()
    WebhookEndpoint.objects.create(name="危机群", format="wecom", url="https://qyapi.example.cn/hook")
    incident = _open(crisis_org, sandbox=True, actor=None)
    sent = Notification.objects.filter(link=f"/crisis/{incident.pk}/")
    assert sent.exists() and set(sent.values_list("channel", flat=True)) == {"inbox"}
    assert incident.sandbox and incident.declared_by is None


@pytest.mark.parametrize("persona", ["agent", "lead", "handler", "head", "pr", "legal"])
def test_only_managers_leaders_and_admins_declare(crisis_org, persona):
    with pytest.raises(Forbidden):
        _open(crisis_org, actor=crisis_org.persona(persona))
    assert not Incident.objects.exists()


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"playbook": "no_such_plan"}, "unknown_playbook"),
        ({"severity": "purple"}, "invalid_severity"),
        ({"title": "  "}, "invalid_title"),
        ({"title": "x" * 201}, "invalid_title"),
        ({"flags": ["a" * 41]}, "invalid_flags"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(crisis_org, fields, code):
    with pytest.raises(InvalidInput) as caught:
        _open(crisis_org, **fields)
    assert caught.value.code == code
    assert not Incident.objects.exists() and not IncidentTask.objects.exists() and not IncidentEvent.objects.exists()


def test_a_branch_manager_declares_for_the_branch(crisis_org):
    incident = _open(crisis_org, actor=crisis_org.manager)
    assert incident.unit == crisis_org.branch
    team = incident.participants.filter(role_key="complaint_team").values_list("user__username", flat=True)
    assert list(team) == ["manager"]
    departments = set(incident.participants.filter(role_key="departments").values_list("user__username", flat=True))
    assert departments == {"head"}  # the branch's network department head
    assert selectors.incident_get(crisis_org.agent, incident.pk) == incident
    with pytest.raises(Exception, match="不存在"):
        selectors.incident_get(crisis_org.outside_agent, incident.pk)


def test_a_drill_runs_in_the_sandbox_organisation_with_its_people(crisis_org):
    from kuaixiang.alerts.sandbox import sandbox_build

    root = sandbox_build()
    incident = _open(crisis_org, sandbox=True, actor=None)
    assert incident.unit == root
    people = set(incident.participants.values_list("user__username", flat=True))
    assert people and all(name.startswith("sandbox-") for name in people)
