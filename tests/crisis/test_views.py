"""The crisis pages: list, declare form, incident page and its forms, report download."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kuaixiang.crisis import branches, scripts, services
from kuaixiang.crisis.models import Incident, ScriptVersion
from tests.personas import PASSWORD, register


def _client(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def incident(crisis_org):
    return services.incident_open(
        playbook="telecom_crisis",
        title="宽带大面积断网",
        actor=crisis_org.hq_manager,
        match_category=crisis_org.category,
    )


def test_declaring_from_the_form_opens_the_incident_page(crisis_org):
    client = _client(crisis_org.hq_manager)
    assert "telecom_crisis" in client.get("/crisis/new/").content.decode()
    response = client.post(
        "/crisis/new/",
        {"title": "话费重复扣费", "playbook": "telecom_crisis", "severity": "orange", "flags": ["government"]},
    )
    incident = Incident.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/crisis/{incident.pk}/"
    assert (incident.severity, incident.flags) == ("orange", ["government"])
    page = client.get(response["Location"]).content.decode()
    for part in ('id="tasks"', 'id="hourly-chart"', 'id="hourly"', 'id="links"', 'id="branches"', 'id="timeline"'):
        assert part in page
    assert "echarts.min.js" in page and 'id="report-download"' in page


def test_a_refused_declaration_shows_the_reason_and_keeps_the_input(crisis_org):
    response = _client(crisis_org.hq_manager).post("/crisis/new/", {"title": "", "playbook": "telecom_crisis"})
    assert response.status_code == 400 and 'data-code="invalid_title"' in response.content.decode()
    response = _client(crisis_org.agent).post("/crisis/new/", {"title": "越权", "playbook": "telecom_crisis"})
    assert response.status_code == 403 and not Incident.objects.exists()


def test_the_page_forms_call_the_services(crisis_org, incident):
    pr, leader = _client(crisis_org.pr), _client(crisis_org.leader)
    pr.post(f"/crisis/{incident.pk}/actions/draft_script/", {"content": "统一口径第一版"})
    leader.post(f"/crisis/{incident.pk}/actions/approve_script/", {"version": "1"})
    response = pr.post(f"/crisis/{incident.pk}/actions/publish_script/", {"version": "1"})
    assert response.status_code == 302
    assert ScriptVersion.objects.get().status == "published"
    task = incident.tasks.get(key="fix")
    manager = _client(crisis_org.hq_manager)
    manager.post(f"/crisis/{incident.pk}/actions/complete_task/", {"task_id": str(task.pk)})
    assert incident.tasks.get(key="fix").state == "done"
    refused = _client(crisis_org.agent).post(f"/crisis/{incident.pk}/actions/close/", follow=True)
    assert "只有投诉管理员、领导可以结束事件" in refused.content.decode()
    incident.refresh_from_db()
    assert incident.status == "active"


def test_the_report_downloads(crisis_org, incident):
    response = _client(crisis_org.hq_manager).get(f"/crisis/{incident.pk}/report.docx")
    assert response.status_code == 200 and response.content[:2] == b"PK"


def test_the_list_and_the_page_cost_the_same_however_much_data(crisis_org, incident):
    client = _client(crisis_org.hq_manager)

    def count(path: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path).status_code == 200
        return len(queries)

    page, listing = count(f"/crisis/{incident.pk}/"), count("/crisis/")
    for _ in range(3):
        register(crisis_org.agent, category_id=crisis_org.leaf.pk)
    scripts.script_publish(incident_id=incident.pk, actor=crisis_org.leader, content="口径")
    branches.incident_push_branches(incident_id=incident.pk, actor=crisis_org.hq_manager)
    services.incident_open(playbook="public_opinion", title="舆情", actor=crisis_org.hq_manager)
    assert count(f"/crisis/{incident.pk}/") == page
    assert count("/crisis/") == listing


def test_playbooks_and_incidents_are_in_the_admin(crisis_org, incident):
    from django.contrib.auth import get_user_model

    from kuaixiang.crisis.models import Playbook

    get_user_model().objects.create_superuser("root", "root@example.cn", PASSWORD)
    client = Client()
    client.login(username="root", password=PASSWORD)
    playbook = Playbook.objects.get(code="telecom_crisis")
    page = client.get(f"/admin/crisis/playbook/{playbook.pk}/change/")
    assert page.status_code == 200 and "special_report" in page.content.decode()
    assert client.get("/admin/crisis/incident/").status_code == 200
    assert client.get(f"/admin/crisis/incident/{incident.pk}/change/").status_code == 200
