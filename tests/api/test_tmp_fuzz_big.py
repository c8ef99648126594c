"""schemathesis against /api/v1/openapi.json, in-process: no operation answers any input with a 5xx."""

import zlib

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from kuaixiang.api.services import token_issue
from kuaixiang.complaints.actions import PAYLOADS
from kuaixiang.complaints.lifecycle import State
from kuaixiang.complaints.services import allowed_actions
from kuaixiang.wsgi import application
from tests.lifecycle_paths import complaint_in
from tests.personas import PASSWORD

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture
def fuzz_world(org):
    """A bearer token for an HQ manager (sees everything) and complaints in several states to act on."""
    states = [State.REGISTERED, State.ACCEPTED, State.DISPATCHED, State.PROCESSING, State.RETURNED, State.REPLIED]
    complaints = [complaint_in(org, state) for state in states]
    moves = [(c.pk, action) for c in complaints for action in allowed_actions(c, org.hq_manager)]
    departments = [org.network.pk, org.business.pk, org.centre.pk]
    return token_issue(username="hq_manager", password=PASSWORD), [c.pk for c in complaints], moves, departments


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


def aim_at_real_rows(case, complaint_ids: list[int], moves: list[tuple[int, str]], department_ids: list[int]) -> None:
    """Point most generated ids, action names and phones at real or valid ones (deterministically, from
    a checksum of the case), so that fuzzed bodies get past the first check and reach the services."""
    seed = zlib.crc32(repr((case.path_parameters, case.query, case.body)).encode())
    aim = seed % 4 != 0  # leave a quarter exactly as generated
    params = case.path_parameters or {}
    if aim and "action" in params:  # an action the caller may do on that complaint (when the test began)
        params["complaint_id"], params["action"] = moves[seed % len(moves)]
    elif aim and "complaint_id" in params:
        params["complaint_id"] = complaint_ids[seed % len(complaint_ids)]
    action, body = params.get("action"), case.body
    if not aim or not isinstance(body, dict):
        return
    if action in PAYLOADS:
        for name in set(body) - set(PAYLOADS[action].model_fields):
            del body[name]
    if isinstance(body.get("department_id"), int):
        body["department_id"] = department_ids[seed % len(department_ids)]
    if isinstance(body.get("into_id"), int):
        body["into_id"] = complaint_ids[seed // 3 % len(complaint_ids)]
    items = body.get("items") if isinstance(body.get("items"), list) else [body]
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("complainant_phone"), str):
            item["complainant_phone"] = "13812345678"


@schema.parametrize()
@settings(
    max_examples=250,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_input_makes_the_api_fail_with_a_server_error(case, through_the_real_handler):
    token, complaint_ids, moves, department_ids = through_the_real_handler
    aim_at_real_rows(case, complaint_ids, moves, department_ids)
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=[not_a_server_error])
