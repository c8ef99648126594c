"""The 演练 pages: list and start, the running drill, step buttons, controls, report and Word export."""

import io
from datetime import timedelta

import time_machine
from django.test import Client
from docx import Document

from kuaixiang.crisis.models import IncidentTask
from kuaixiang.drills.models import Drill
from tests.drills.conftest import START


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


FORM = {
    "playbook": "telecom_crisis",
    "title": "",
    "kind": "synthetic",
    "category": "网络质量/移动网络/移动上网/上网连接/无法上网",
    "burst": 110,
    "burst_minutes": 30,
    "background_per_hour": 5,
    "hours": 1,
    "speed": 60,
}


def test_a_whole_drill_through_the_pages(drill_org):
    manager = client_for(drill_org.manager)
    page = manager.get("/drills/").content.decode()
    assert "发起演练" in page and "telecom_crisis" in page
    with time_machine.travel(START, tick=False):
        response = manager.post("/drills/", FORM)
    assert response.status_code == 302, response.content.decode()[:2000]
    drill = Drill.objects.get()
    with time_machine.travel(START + timedelta(seconds=30), tick=False):
        page = manager.get(f"/drills/{drill.pk}/").content.decode()
        assert "演练时钟" in page and "结束演练并评分" in page and 'id="drill-steps"' in page
        fix = IncidentTask.objects.get(incident_id=drill.incident_id, key="fix")
        assert manager.post(f"/drills/{drill.pk}/tasks/{fix.pk}/done/").status_code == 302
        assert manager.post(f"/drills/{drill.pk}/advance/", {"minutes": "60"}).status_code == 302
        assert manager.post(f"/drills/{drill.pk}/incident/stabilise/").status_code == 302
        response = manager.post(f"/drills/{drill.pk}/incident/explode/", follow=True)
        assert "操作应为" in response.content.decode()
        assert manager.post(f"/drills/{drill.pk}/finish/", {"notes": "处置有序"}).status_code == 302
    drill.refresh_from_db()
    assert drill.status == Drill.Status.FINISHED and drill.score is not None and drill.notes == "处置有序"
    report = client_for(drill_org.agent).get("/drills/report/").content.decode()
    assert 'id="drill-chart"' in report and drill.title in report and "drill-chart-data" in report
    word = client_for(drill_org.agent).get("/drills/report.docx")
    assert word["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.wordprocessingml")
    text = "\n".join(p.text for p in Document(io.BytesIO(word.content)).paragraphs)
    assert "应急演练评估报告" in text and "历次演练对比" in text and "评估意见：处置有序" in text


def test_agents_see_drills_but_cannot_start_them(drill_org):
    agent = client_for(drill_org.agent)
    page = agent.get("/drills/").content.decode()
    assert "发起演练" not in page
    assert agent.post("/drills/", FORM).status_code == 403
    assert agent.get("/drills/12345/").status_code == 404


def test_bad_form_input_is_shown_not_raised(drill_org):
    manager = client_for(drill_org.manager)
    response = manager.post("/drills/", {**FORM, "kind": "recorded"})
    assert response.status_code == 400 and "历史回放需要上传 CSV 文件" in response.content.decode()
    response = manager.post("/drills/", {**FORM, "burst": "lots"})
    assert response.status_code == 400
    assert not Drill.objects.exists()
