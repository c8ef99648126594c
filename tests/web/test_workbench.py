from datetime import timedelta

from django.contrib.auth import get_user_model

from kuaixiang import clock
from kuaixiang.complaints.models import Complaint
from tests.personas import PASSWORD, register
from tests.web.support import walk


def test_the_workbench_needs_a_login(client, org):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_logging_in_leads_to_the_workbench(client, org):
    response = client.post("/login/", {"username": "agent", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert "工作台" in response.content.decode()


def test_a_wrong_password_is_refused_in_chinese(client, org):
    response = client.post("/login/", {"username": "agent", "password": "nope"})
    assert response.status_code == 200
    assert "请输入一个正确的" in response.content.decode()


def test_logout_is_a_post(login, org):
    client = login(org.agent)
    response = client.post("/logout/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_navbar_shows_name_role_department_and_unread_count(login, org, complaint):
    walk(complaint, org, "dispatch")  # tells the network department's handler and head
    html = login(org.handler).get("/").content.decode()
    assert "处理人" in html and "甲网络部" in html and ">handler<" in html
    assert 'data-count="1"' in html


def test_my_queue_holds_what_i_took_and_team_queue_what_my_department_has(login, org):
    mine = walk(register(org.agent, description="我的工单"), org, "take")
    team = walk(register(org.agent, description="部门待接单"), org, "dispatch")
    elsewhere = register(org.agent, description="还在客服中心")
    html = login(org.handler).get("/").content.decode()
    my_queue, team_queue = html.split('id="my-queue"')[1].split('id="team-queue"')
    assert mine.number in my_queue and team.number not in my_queue
    assert mine.number in team_queue and team.number in team_queue
    assert elsewhere.number not in html


def test_the_complaint_centre_team_queue_follows_its_intake(login, org):
    fresh = register(org.agent, description="刚登记")
    html = login(org.lead).get("/").content.decode()
    assert fresh.number in html.split('id="team-queue"')[1]


def test_counts_per_status_and_overdue(login, org):
    register(org.agent)
    late = walk(register(org.agent), org, "dispatch")
    Complaint.objects.filter(pk=late.pk).update(due_at=clock.now() - timedelta(hours=1))
    response = login(org.agent).get("/")
    html = response.content.decode()
    assert response.context["counts"]["registered"] == 1
    assert response.context["counts"]["dispatched"] == 1
    assert 'id="count-overdue">1<' in html
    assert 'id="count-open">2<' in html


def test_a_user_without_a_staff_record_gets_a_clear_403(client, org):
    user = get_user_model().objects.create_user("visitor", password=PASSWORD)
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 403
    assert "未分配部门和角色" in response.content.decode()


def test_the_workbench_renders_for_every_persona(login, org, complaint):
    walk(complaint, org, "take")
    for name in ("agent", "lead", "handler", "head", "manager", "pr", "legal", "leader", "admin", "outsider"):
        assert login(org.persona(name)).get("/").status_code == 200, name
