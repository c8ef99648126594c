"""POST /api/v1/auth/token and bearer authentication."""

from datetime import timedelta

import pytest
import time_machine

from kuaixiang import clock
from kuaixiang.api.models import ApiToken, hash_token
from tests.api.conftest import ApiClient, assert_error, issue_token
from tests.personas import PASSWORD


def test_a_right_password_gets_a_token_that_authenticates_later_calls(org):
    token = issue_token("agent")
    me = ApiClient(token).get("/auth/me")
    assert me.status_code == 200
    assert me.json() == {
        "id": org.agent.pk,
        "username": "agent",
        "name": "agent",
        "role": "agent",
        "department": {"id": org.centre.pk, "name": org.centre.name},
    }


def test_only_the_hash_of_a_token_is_stored(org):
    token = issue_token("agent")
    stored = ApiToken.objects.get()
    assert stored.key_hash == hash_token(token) != token
    assert token.startswith("kx_")


@pytest.mark.parametrize(
    ("username", "password"),
    [("agent", "wrong-password"), ("nobody", PASSWORD), ("agent", PASSWORD.upper())],
)
def test_wrong_credentials_get_401_and_no_token(org, username, password):
    response = ApiClient().post("/auth/token", {"username": username, "password": password})
    assert_error(response, 401, "invalid_credentials")
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize(
    "body",
    [{}, {"username": "agent"}, {"username": "", "password": "x"}, {"username": "a\x00", "password": "x"}],
)
def test_a_malformed_token_request_gets_400(org, body):
    assert_error(ApiClient().post("/auth/token", body), 400, "validation_error")


def test_a_deactivated_user_gets_no_token_and_loses_the_ones_he_had(org):
    token = issue_token("agent")
    org.agent.is_active = False
    org.agent.save()
    assert_error(
        ApiClient().post("/auth/token", {"username": "agent", "password": PASSWORD}), 401, "invalid_credentials"
    )
    assert_error(ApiClient(token).get("/complaints"), 401, "unauthorized")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer kx_not-a-real-token"},
        {"Authorization": "Bearer "},
        {"Authorization": "Token kx_whatever"},
        {"Authorization": "kx_whatever"},
    ],
)
@pytest.mark.parametrize("path", ["/complaints", "/complaints/1", "/departments", "/auth/me", "/notifications"])
def test_a_missing_or_wrong_token_gets_401_unauthorized(org, headers, path):
    response = ApiClient().get(path, headers=headers)
    assert_error(response, 401, "unauthorized")


def test_writes_without_a_token_are_refused_and_write_nothing(org):
    from kuaixiang.complaints.models import Complaint

    body = {"channel": "phone", "complainant_phone": "13812345678", "description": "x"}
    assert_error(ApiClient("kx_wrong").post("/complaints", body), 401, "unauthorized")
    assert_error(ApiClient().post("/complaints/bulk", {"items": [body]}), 401, "unauthorized")
    assert not Complaint.objects.exists()


def test_last_use_is_recorded_at_most_once_a_minute(org):
    token = issue_token("agent")
    client = ApiClient(token)
    start = clock.now()
    with time_machine.travel(start, tick=False):
        client.get("/auth/me")
        first = ApiToken.objects.get().last_used_at
        client.get("/auth/me")
        assert ApiToken.objects.get().last_used_at == first
    with time_machine.travel(start + timedelta(minutes=2), tick=False):
        client.get("/auth/me")
        assert ApiToken.objects.get().last_used_at > first


def test_a_user_without_a_staff_record_is_forbidden_to_act_as_staff(db, django_user_model):
    django_user_model.objects.create_user("stranger", password=PASSWORD)
    client = ApiClient(issue_token("stranger"))
    assert_error(client.get("/auth/me"), 403, "not_staff")
    body = {"channel": "phone", "complainant_phone": "13812345678", "description": "x"}
    assert_error(client.post("/complaints", body), 403, "not_staff")
