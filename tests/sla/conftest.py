"""Shared fixtures: the pure kernel built from the package alone, and an authenticated API client."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from chinese_calendar import constants as package_data
from django.test import Client

from kuaixiang.sla.worktime import BusinessCalendar, parse_week_hours
from tests.personas import PASSWORD, build_org

SH = ZoneInfo("Asia/Shanghai")
CN_HOURS = {day: [["09:00", "12:00"], ["13:30", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
PACKAGE_YEARS = range(min(d.year for d in package_data.holidays), max(d.year for d in package_data.holidays) + 1)


def sh(*args: int) -> datetime:
    """A wall-clock instant in Asia/Shanghai."""
    return datetime(*args, tzinfo=SH)


def eod(year: int, month: int, day: int) -> datetime:
    return sh(year, month, day, 23, 59, 59)


def build_kernel(raw_hours=None, **kwargs) -> BusinessCalendar:
    """The `cn` calendar straight from the package (no database), optionally altered."""
    options = {
        "years": PACKAGE_YEARS,
        "holidays": dict(package_data.holidays),
        "makeup_days": dict(package_data.workdays),
        "code": "cn",
    }
    options.update(kwargs)
    return BusinessCalendar(parse_week_hours(raw_hours or CN_HOURS), **options)


CN = build_kernel()


@pytest.fixture
def cn() -> BusinessCalendar:
    return CN


class ApiClient:
    def __init__(self, token: str | None = None):
        self.client = Client()
        self.token = token

    def get(self, path: str, params: dict | None = None):
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return self.client.get("/api/v1/calendar" + path, params or {}, headers=headers)


@pytest.fixture
def api(db) -> ApiClient:
    org = build_org()
    response = Client().post(
        "/api/v1/auth/token",
        {"username": org.agent.username, "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return ApiClient(response.json()["token"])


def assert_error(response, status: int, code: str) -> dict:
    """The house error shape with the given status and code, and a Chinese message."""
    assert response.status_code == status, response.content.decode()
    body = response.json()
    assert set(body) == {"code", "message", "details"}, body
    assert body["code"] == code, body
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"]), body["message"]
    return body
