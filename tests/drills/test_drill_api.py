"""POST /api/v1/drills, GET /api/v1/drills, GET /api/v1/drills/{id}."""

import time_machine

from kuaixiang.drills.models import Drill
from tests.api.conftest import ApiClient, assert_error
from tests.drills.conftest import SMALL, START


def test_start_list_and_detail(drill_org, api_as, django_assert_max_num_queries):
    client = api_as("manager")
    with time_machine.travel(START, tick=False):
        response = client.post("/drills", {"playbook": "telecom_crisis", "scenario": SMALL, "speed": 60})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "running" and body["playbook"] == "telecom_crisis" and body["activation"] == "warning"
    assert body["registered"] == 115 and body["incident_id"]
    assert [s["key"] for s in body["steps"]][:2] == ["initial_report", "fix"]
    assert body["steps"][0]["outcome"] == "met"
    assert body["scenario"]["burst"] == 110
    reader = api_as("agent")
    with django_assert_max_num_queries(4):
        listed = reader.get("/drills")
    assert [d["id"] for d in listed.json()] == [body["id"]]
    detail = reader.get(f"/drills/{body['id']}").json()
    assert detail["title"].endswith("演练")
    assert len(detail["steps"]) == len(body["steps"])


def test_refusals(drill_org, api_as):
    assert_error(api_as("agent").post("/drills", {"playbook": "telecom_crisis"}), 403, "drill_forbidden")
    client = api_as("manager")
    assert_error(client.post("/drills", {"playbook": "nope"}), 400, "unknown_playbook")
    assert_error(
        client.post("/drills", {"playbook": "telecom_crisis", "scenario": {"kind": "x"}}), 400, "invalid_scenario"
    )
    assert_error(client.post("/drills", {"playbook": "telecom_crisis", "speed": 0}), 400, "invalid_speed")
    assert client.post("/drills", {"scenario": {}}).status_code == 400
    assert_error(client.get("/drills/999999"), 404, "drill_not_found")
    assert_error(ApiClient().get("/drills"), 401, "unauthorized")
    with time_machine.travel(START, tick=False):
        assert client.post("/drills", {"playbook": "property_major", "scenario": SMALL}).status_code == 201
        assert_error(client.post("/drills", {"playbook": "property_major", "scenario": SMALL}), 409, "drill_running")
    assert Drill.objects.count() == 1
