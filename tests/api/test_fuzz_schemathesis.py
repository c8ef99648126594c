"""schemathesis against /api/v1/openapi.json, in-process: no operation answers any input with a 5xx."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from kuaixiang.complaints.lifecycle import ACTIONS, State
from kuaixiang.wsgi import application
from tests.api.conftest import issue_token
from tests.lifecycle_paths import complaint_in

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture
def fuzz_world(org):
    """A bearer token for an HQ manager (sees everything) and complaints in several states to act on."""
    states = [State.REGISTERED, State.ACCEPTED, State.DISPATCHED, State.PROCESSING, State.RETURNED, State.REPLIED]
    complaints = [complaint_in(org, state).pk for state in states]
    return issue_token("hq_manager"), complaints


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
def test_no_input_makes_the_api_fail_with_a_server_error(case, fuzz_world):
    token, complaint_ids = fuzz_world
    aim_at_real_rows(case, complaint_ids)
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=[not_a_server_error])
