"""Monitoring board, warnings list and detail pages, and the lifecycle through the web."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client

from kuaixiang.alerts.models import Warning
from tests.alerts.conftest import make_rule
from tests.personas import PASSWORD, register

MORNING = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def login(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def warning(org):
    make_rule()
    with time_machine.travel(MORNING, tick=False):
        for _ in range(3):
            register(org.agent, category_id=org.leaf.pk)
    return Warning.objects.get()


def test_the_board_shows_todays_counts_and_open_warnings(org, warning):
    client = login(org.manager)
    with time_machine.travel(MORNING, tick=False):
        page = client.get("/alerts/board/")
        data = client.get("/alerts/board.json").json()
    assert page.status_code == 200 and "投诉监控大屏" in page.content.decode()
    assert data["total_today"] == 3 and data["levels"]["1"] == 1
    assert data["series"][-1]["count"] == 3 and data["series"][-1]["hour"] == "09:00"
    assert {"name": "电话", "count": 3} in data["by_channel"]
    assert data["open_warnings"][0]["scope"] == "网络质量/移动网络/信号弱"


def test_a_manager_acknowledges_assigns_and_resolves_on_the_detail_page(org, warning):
    client = login(org.manager)
    assert "网络质量/移动网络/信号弱" in client.get("/alerts/warnings/").content.decode()
    detail = client.get(f"/alerts/warnings/{warning.pk}/")
    assert detail.status_code == 200 and "解除预警" in detail.content.decode()
    base = f"/alerts/warnings/{warning.pk}"
    assert client.post(f"{base}/acknowledge/", {"note": "收到"}).status_code == 302
    assert client.post(f"{base}/assign/", {"department_id": org.network.pk}).status_code == 302
    assert client.post(f"{base}/resolve/", {"cause": ""}).status_code == 400
    assert client.post(f"{base}/resolve/", {"cause": "基站停电"}).status_code == 302
    warning.refresh_from_db()
    assert (warning.status, warning.department, warning.cause) == ("resolved", org.network, "基站停电")


def test_an_agent_cannot_see_or_act_on_warnings(org, warning):
    client = login(org.agent)
    assert "信号弱" not in client.get("/alerts/warnings/").content.decode()
    assert client.get(f"/alerts/warnings/{warning.pk}/").status_code == 404
    assert client.post(f"/alerts/warnings/{warning.pk}/acknowledge/").status_code == 403


def test_the_board_lists_only_the_warnings_the_viewer_may_see(org, warning):
    with time_machine.travel(MORNING, tick=False):
        data = login(org.agent).get("/alerts/board.json").json()
    assert data["total_today"] == 3 and data["open_warnings"] == [] and data["levels"]["1"] == 0
