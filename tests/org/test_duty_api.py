"""GET /api/v1/duty and GET /api/v1/duty/now."""

from datetime import date, datetime

import pytest
import time_machine

from kuaixiang.clock import SHANGHAI
from tests.api.conftest import assert_error
from tests.org.duty_helpers import person, shift

DAY = date(2026, 11, 23)


@pytest.fixture
def roster(org):
    lead2 = person("lead2", org.centre, "lead")
    shift(org, org.lead, org.centre, "lead", DAY, "08:30", "17:30")
    shift(org, lead2, org.centre, "lead", DAY, "17:30", "08:30", kind="night")
    shift(org, org.head, org.network, "head", DAY, "08:00", "20:00")
    shift(org, org.outsider, org.other_network, "handler", DAY, "08:00", "20:00")
    return lead2


def test_duty_on_a_date_lists_shifts_in_scope(org, roster, api_as, django_assert_max_num_queries):
    client = api_as("manager")
    with django_assert_max_num_queries(6):
        response = client.get("/duty", {"date": "2026-11-23"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert [(s["department"], s["role"], s["user"]["username"]) for s in body] == [
        ("a-centre", "lead", "lead"),
        ("a-centre", "lead", "lead2"),
        ("a-network", "head", "head"),
    ]
    night = body[1]
    assert night["start"] == "17:30:00" and night["end"] == "08:30:00" and night["kind"] == "night"
    assert night["ends_at"].startswith("2026-11-24T00:30:00")


def test_duty_queries_do_not_grow_with_the_number_of_shifts(org, roster, api_as):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api_as("admin")
    with CaptureQueriesContext(connection) as few:
        assert len(client.get("/duty", {"date": "2026-11-23"}).json()) == 4
    for n in range(8):
        extra = person(f"agent{n}", org.business, "agent")
        shift(org, extra, org.business, "agent", DAY, "09:00", "18:00")
    with CaptureQueriesContext(connection) as many:
        assert len(client.get("/duty", {"date": "2026-11-23"}).json()) == 12
    assert len(many.captured_queries) <= len(few.captured_queries)  # the first one also stamps the token


def test_duty_filtered_by_department(org, roster, api_as):
    response = api_as("admin").get("/duty", {"date": "2026-11-23", "department": "a-network"})
    assert [s["user"]["username"] for s in response.json()] == ["head"]
    response = api_as("admin").get("/duty", {"date": "2026-11-23", "department": str(org.other_network.pk)})
    assert [s["user"]["username"] for s in response.json()] == ["outsider"]


def test_duty_refuses_departments_outside_scope_and_unknown_ones(org, roster, api_as):
    client = api_as("manager")
    assert_error(client.get("/duty", {"department": "b-network"}), 403, "department_forbidden")
    assert_error(client.get("/duty", {"department": "nowhere"}), 404, "department_not_found")
    assert_error(client.get("/duty", {"department": "9" * 30}), 404, "department_not_found")
    assert client.get("/duty", {"date": "2026-02-30"}).status_code == 400


def test_duty_now_answers_from_the_roster_or_falls_back(org, roster, api_as):
    client = api_as("manager")
    with time_machine.travel(datetime(2026, 11, 23, 20, 0, tzinfo=SHANGHAI), tick=False):
        body = client.get("/duty/now", {"role": "lead", "department": "a-centre"}).json()
    assert body["source"] == "roster"
    assert [u["username"] for u in body["users"]] == ["lead2"]
    with time_machine.travel(datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI), tick=False):
        body = client.get("/duty/now", {"role": "lead", "department": "a-centre"}).json()
    assert body["source"] == "fallback"
    assert [u["username"] for u in body["users"]] == ["lead", "lead2"]


def test_duty_now_refuses_bad_input(org, api_as):
    client = api_as("agent")
    assert_error(client.get("/duty/now", {"role": "boss", "department": "a-centre"}), 400, "role_unknown")
    assert_error(client.get("/duty/now", {"role": "lead", "department": "b-centre"}), 403, "department_forbidden")
    assert client.get("/duty/now", {"role": "lead"}).status_code == 400


def test_duty_requires_a_token(org):
    from tests.api.conftest import ApiClient

    assert_error(ApiClient().get("/duty"), 401, "unauthorized")
