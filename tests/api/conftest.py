"""An API client that talks to /api/v1 through Django's test client with a real bearer token."""

import json

import pytest
from django.test import Client

from tests.personas import PASSWORD

BASE = "/api/v1"


class ApiClient:
    def __init__(self, token: str | None = None):
        self.client = Client()
        self.token = token

    def _headers(self, headers: dict | None) -> dict:
        out = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return {**out, **(headers or {})}

    def get(self, path: str, params: dict | None = None, headers: dict | None = None):
        return self.client.get(BASE + path, params or {}, headers=self._headers(headers))

    def post(self, path: str, body=None, *, raw: str | bytes | None = None, headers: dict | None = None):
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        return self.client.post(BASE + path, data, content_type="application/json", headers=self._headers(headers))


def issue_token(username: str, password: str = PASSWORD) -> str:
    response = ApiClient().post("/auth/token", {"username": username, "password": password})
    assert response.status_code == 200, response.content
    return response.json()["token"]


@pytest.fixture
def api_as(org):
    """``api_as("agent")`` — a client authenticated as the named persona."""

    def make(persona: str) -> ApiClient:
        return ApiClient(issue_token(org.persona(persona).username))

    return make


def assert_error(response, status: int, code: str) -> dict:
    """The house error shape: ``{code, message (Chinese), details}`` with the given status and code."""
    assert response.status_code == status, response.content.decode()
    body = response.json()
    assert set(body) == {"code", "message", "details"}, body
    assert body["code"] == code, body
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"]), body["message"]
    assert isinstance(body["details"], dict)
    return body
