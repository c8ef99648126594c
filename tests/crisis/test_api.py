"""/api/v1 crisis endpoints: playbooks, declare, list, detail, actions, report.docx."""

import io

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from docx import Document

from kuaixiang.crisis.models import Incident
from tests.api.conftest import ApiClient, assert_error, issue_token
from tests.crisis.conftest import local
from tests.personas import register


@pytest.fixture
def api_as(crisis_org):
    def make(persona: str) -> ApiClient:
        return ApiClient(issue_token(crisis_org.persona(persona).username))

    return make


def _declare(client, **fields):
    body = {"title": "全网短信发送失败", "playbook": "telecom_crisis", "severity": "red", "description": "短信中心故障"}
    return client.post("/incidents", {**body, **fields})


def test_playbooks_lists_the_shipped_codes(api_as):
    response = api_as("agent").get("/playbooks")
    assert response.status_code == 200
    plans = {p["code"]: p for p in response.json()}
    assert set(plans) == {"telecom_crisis", "property_major", "public_opinion", "school_media"}
    steps = {s["key"]: s for s in plans["telecom_crisis"]["steps"]}
    assert (steps["special_report"]["amount"], steps["special_report"]["unit"], steps["special_report"]["anchor"]) == (
        3.0,
        "working_days",
        "close",
    )


def test_declare_then_read_it_back(crisis_org, api_as):
    client = api_as("hq_manager")
    with time_machine.travel(local(2025, 9, 30, 10, 0), tick=False):
        response = _declare(client, category_id=crisis_org.category.pk)
    assert response.status_code == 201, response.content
    incident_id = response.json()["id"]
    with time_machine.travel(local(2025, 9, 30, 10, 30), tick=False):
        register(crisis_org.agent, category_id=crisis_org.leaf.pk)
        detail = client.get(f"/incidents/{incident_id}").json()
    assert detail["activated_at"].startswith("2025-09-30T02:00:00") and detail["closed_at"] is None
    assert detail["linked_count"] == 1
    assert detail["hourly"] == [{"hour": "2025-09-30T02:00:00Z", "count": 1, "change": 1, "percent": None}]
    tasks = {t["key"]: t for t in detail["tasks"]}
    assert tasks["fix"]["title"].startswith("快速补救") and tasks["fix"]["state"] == "open"
    assert tasks["fix"]["due_at"].startswith("2025-09-30T04:00:00")
    assert tasks["special_report"]["due_at"] is None and tasks["special_report"]["state"] == "waiting"
    listed = client.get("/incidents").json()
    assert [i["id"] for i in listed] == [incident_id]


def test_actions_link_unlink_publish_stabilise_close(crisis_org, api_as):
    manager, leader = api_as("hq_manager"), api_as("leader")
    incident_id = _declare(manager).json()["id"]
    complaint = register(crisis_org.agent)
    path = f"/incidents/{incident_id}/actions"
    assert manager.post(f"{path}/link", {"complaint_id": complaint.pk}).json()["linked_count"] == 1
    assert_error(manager.post(f"{path}/link", {"complaint_id": complaint.pk}), 409, "already_linked")
    assert manager.post(f"{path}/unlink", {"complaint_id": complaint.pk}).json()["linked_count"] == 0
    published = leader.post(f"{path}/publish_script", {"content": "短信中心已恢复，请重新发送。"})
    assert published.status_code == 200
    assert published.json()["script"]["version"] == 1 and published.json()["result"] == {
        "version": 1,
        "status": "published",
    }
    assert manager.post(f"{path}/stabilise").json()["status"] == "stabilising"
    closed = manager.post(f"{path}/close", {"note": "已恢复"}).json()
    assert closed["status"] == "closed" and closed["closed_at"] is not None
    assert {t["key"]: t["state"] for t in closed["tasks"]}["special_report"] == "open"


@pytest.mark.parametrize(
    ("persona", "action", "body", "status", "code"),
    [
        ("agent", "close", None, 403, "role_forbidden"),
        ("pr", "publish_script", {"content": "未经审批"}, 403, "role_forbidden"),
        ("hq_manager", "fly", None, 404, "unknown_action"),
        ("hq_manager", "link", {}, 400, "field_required"),
        ("hq_manager", "link", {"complaint_id": 10**9}, 404, "complaint_not_found"),
        ("hq_manager", "close", {"complaint_id": 1}, 400, "unexpected_field"),
        ("leader", "approve_script", None, 404, "script_not_found"),
        ("hq_manager", "bulk_reply", None, 409, "no_published_script"),
    ],
)
def test_refused_actions_change_nothing(crisis_org, api_as, persona, action, body, status, code):
    incident_id = _declare(api_as("hq_manager")).json()["id"]
    before = Incident.objects.get(pk=incident_id).events.count()
    response = api_as(persona).post(f"/incidents/{incident_id}/actions/{action}", body)
    assert_error(response, status, code)
    incident = Incident.objects.get(pk=incident_id)
    assert incident.status == "active" and incident.events.count() == before


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"playbook": "nope"}, "unknown_playbook"),
        ({"severity": "purple"}, "invalid_severity"),
        ({"title": ""}, None),
        ({"category_id": 10**9}, "unknown_category"),
        ({"extra": 1}, None),
    ],
)
def test_declare_refuses_bad_input(api_as, fields, code):
    response = _declare(api_as("hq_manager"), **fields)
    assert response.status_code == 400, response.content
    if code:
        assert_error(response, 400, code)
    assert not Incident.objects.exists()


def test_declare_needs_a_declaring_role_and_a_token(api_as):
    assert_error(_declare(api_as("agent")), 403, "role_forbidden")
    assert _declare(ApiClient()).status_code == 401


def test_an_unknown_or_out_of_scope_incident_is_404(crisis_org, api_as):
    incident_id = _declare(api_as("manager")).json()["id"]  # branch A's incident
    assert_error(api_as("outside_agent").get(f"/incidents/{incident_id}"), 404, "incident_not_found")
    assert_error(api_as("hq_manager").get("/incidents/999999"), 404, "incident_not_found")


def test_the_report_downloads_as_a_word_file(api_as):
    client = api_as("hq_manager")
    incident_id = _declare(client).json()["id"]
    response = client.get(f"/incidents/{incident_id}/report.docx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.wordprocessingml")
    doc = Document(io.BytesIO(response.content))
    assert doc.paragraphs[0].text == "全网短信发送失败 专题报告"
    assert_error(api_as("agent").get(f"/incidents/{incident_id}/report.docx"), 403, "role_forbidden")


def test_the_list_costs_the_same_for_one_or_many_incidents(crisis_org, api_as):
    client = api_as("hq_manager")
    _declare(client)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/incidents").status_code == 200
        return len(queries)

    one = count()
    for i in range(5):
        _declare(client, title=f"事件 {i}", playbook="public_opinion")
    assert count() == one


def test_the_detail_costs_the_same_however_many_tasks_links_and_branches(crisis_org, api_as):
    client = api_as("hq_manager")
    incident_id = _declare(client, category_id=crisis_org.category.pk).json()["id"]

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/incidents/{incident_id}").status_code == 200
        return len(queries)

    one = count()
    for _ in range(3):
        register(crisis_org.agent, category_id=crisis_org.leaf.pk)
    client.post(f"/incidents/{incident_id}/actions/push_branches")
    assert count() == one
