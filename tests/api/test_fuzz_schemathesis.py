"""schemathesis against /api/v1/openapi.json, in-process: no operation answers any input with a 5xx."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from kuaixiang.complaints.lifecycle import ACTIONS, State
from kuaixiang.wsgi import application
from kuaixiang.api.services import token_issue
from tests.lifecycle_paths import complaint_in
from tests.personas import PASSWORD

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture
def fuzz_world(org):
    """A bearer token for an HQ manager (sees everything) and complaints in several states to act on."""
    states = [State.REGISTERED, State.ACCEPTED, State.DISPATCHED, State.PROCESSING, State.RETURNED, State.REPLIED]
    complaints = [complaint_in(org, state).pk for state in states]
    return token_issue(username="hq_manager", password=PASSWORD), complaints


@pytest.fixture
def through_the_real_handler(fuzz_world):
    """Django's WSGI handler closes "old" connections around each request, and the connection holding
    the test's transaction looks old: detach that, as Django's test client does (and re-attaches after
    each of its requests — so no test client may run while this is in effect)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield fuzz_world
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def aim_at_real_rows(case, complaint_ids: list[int]) -> None:
    """Point about half the generated ids and action names at real ones, so bodies reach the services."""
    params = case.path_parameters or {}
    generated = params.get("complaint_id")
    if isinstance(generated, int) and generated % 2 == 0:
        params["complaint_id"] = complaint_ids[generated // 2 % len(complaint_ids)]
    action = params.get("action")
    if isinstance(action, str) and action not in ACTIONS and len(action) % 2 == 0:
        params["action"] = ACTIONS[len(action) // 2 % len(ACTIONS)]


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_input_makes_the_api_fail_with_a_server_error(case, through_the_real_handler):
    token, complaint_ids = through_the_real_handler
    aim_at_real_rows(case, complaint_ids)
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=[not_a_server_error])
