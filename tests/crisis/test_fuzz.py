"""schemathesis on the crisis endpoints with real playbooks and a real incident: no input gives a 5xx."""

import zlib

import pytest
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from kuaixiang.api.services import token_issue
from kuaixiang.crisis import services
from kuaixiang.crisis.actions import ACTIONS
from tests.api.test_fuzz_schemathesis import schema
from tests.personas import PASSWORD, register

crisis = schema.include(path_regex=r"/(incidents|playbooks)")


@pytest.fixture
def crisis_world(crisis_org):
    incident = services.incident_open(
        playbook="telecom_crisis", title="模糊测试", actor=crisis_org.hq_manager, match_category=crisis_org.category
    )
    complaint = register(crisis_org.agent, category_id=crisis_org.leaf.pk)
    task = incident.tasks.get(key="fix")
    return token_issue(username="leader", password=PASSWORD), incident.pk, complaint.pk, task.pk


@pytest.fixture
def through_the_real_handler(crisis_world):
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield crisis_world
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@crisis.parametrize()
@settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_no_input_makes_the_crisis_api_fail_with_a_server_error(case, through_the_real_handler):
    token, incident_id, complaint_id, task_id = through_the_real_handler
    seed = zlib.crc32(repr((case.path_parameters, case.query, case.body)).encode())
    params = case.path_parameters or {}
    if seed % 4 and "incident_id" in params:
        params["incident_id"] = incident_id
    if seed % 3 and "action" in params:
        params["action"] = list(ACTIONS)[seed % len(ACTIONS)]
    if isinstance(case.body, dict) and seed % 2:
        if "complaint_id" in case.body:
            case.body["complaint_id"] = complaint_id
        if "task_id" in case.body:
            case.body["task_id"] = task_id
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=[not_a_server_error])
