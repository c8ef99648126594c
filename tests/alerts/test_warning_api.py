"""GET /api/v1/warnings, GET /api/v1/warnings/{id}, POST /api/v1/warnings/{id}/actions/{action}."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kuaixiang.alerts.models import Warning
from tests.alerts.conftest import make_rule
from tests.api.conftest import assert_error
from tests.personas import register

MORNING = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


@pytest.fixture
def warning(org):
    make_rule()
    with time_machine.travel(MORNING, tick=False):
        for _ in range(3):
            register(org.agent, category_id=org.leaf.pk)
    return Warning.objects.get()


def test_a_manager_works_a_warning_through_its_lifecycle(org, api_as, warning):
    manager = api_as("manager")
    path = f"/warnings/{warning.pk}/actions"
    assert manager.post(f"{path}/acknowledge", {"note": "核实中"}).json()["status"] == "acknowledged"
    body = manager.post(f"{path}/assign", {"department_id": org.network.pk}).json()
    assert (body["status"], body["department_id"]) == ("assigned", org.network.pk)
    extra = register(org.agent, description="另一件相关投诉")
    assert manager.post(f"{path}/link", {"complaint_ids": [extra.pk]}).status_code == 200
    body = manager.post(f"{path}/resolve", {"cause": "基站故障，已抢修"}).json()
    assert (body["status"], body["cause"]) == ("resolved", "基站故障，已抢修")
    kinds = [e["kind"] for e in body["events"]]
    assert kinds[:1] == ["raised"] and kinds[-4:] == ["acknowledged", "assigned", "linked", "resolved"]
    assert extra.pk in {c["id"] for c in body["complaints"]}


def test_the_head_of_the_assigned_department_sees_it_an_agent_does_not(org, api_as, warning):
    assert api_as("head").get("/warnings").json()["count"] == 0
    api_as("manager").post(f"/warnings/{warning.pk}/actions/assign", {"department_id": org.network.pk})
    assert api_as("head").get("/warnings").json()["count"] == 1
    assert_error(api_as("agent").get(f"/warnings/{warning.pk}"), 404, "warning_not_found")
    assert_error(api_as("agent").post(f"/warnings/{warning.pk}/actions/acknowledge", {}), 403, "warning_forbidden")


def test_bad_actions_are_refused_and_change_nothing(org, api_as, warning):
    manager = api_as("manager")
    assert_error(manager.post(f"/warnings/{warning.pk}/actions/resolve", {"cause": " "}), 400, "cause_required")
    assert_error(manager.post(f"/warnings/{warning.pk}/actions/assign", {}), 400, "department_required")
    assert_error(
        manager.post(f"/warnings/{warning.pk}/actions/assign", {"department_id": 999999}), 400, "unknown_department"
    )
    assert_error(
        manager.post(f"/warnings/{warning.pk}/actions/link", {"complaint_ids": [999999]}), 400, "unknown_complaints"
    )
    assert manager.post(f"/warnings/{warning.pk}/actions/explode", {}).status_code == 400
    assert_error(manager.get("/warnings/999999"), 404, "warning_not_found")
    warning.refresh_from_db()
    assert (warning.status, warning.department_id) == ("open", None)
    manager.post(f"/warnings/{warning.pk}/actions/resolve", {"cause": "误报"})
    assert_error(manager.post(f"/warnings/{warning.pk}/actions/acknowledge", {}), 409, "warning_not_open")


def test_the_list_costs_the_same_queries_for_one_or_many_warnings(org, api_as, warning):
    manager = api_as("manager")
    manager.get("/warnings")  # the token's first use records it
    with CaptureQueriesContext(connection) as one:
        assert manager.get("/warnings").json()["count"] == 1
    make_rule(code="second", group_by="channel")
    make_rule(code="third", group_by="all")
    with time_machine.travel(MORNING, tick=False):
        for _ in range(3):
            register(org.agent, category_id=org.leaf.pk)
    with CaptureQueriesContext(connection) as many:
        assert manager.get("/warnings").json()["count"] == 3
    assert len(many) == len(one)


def test_out_of_range_ids_are_a_client_error(org, api_as, warning):
    manager = api_as("manager")
    response = manager.post(f"/warnings/{warning.pk}/actions/link", {"complaint_ids": [-(2**70), 5]})
    assert response.status_code == 400
    assert_error(manager.get(f"/warnings/{2**70}"), 404, "warning_not_found")
