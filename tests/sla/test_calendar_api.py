"""GET /api/v1/calendar/deadline and /api/v1/calendar/days with a bearer token."""

from datetime import date

import pytest
from django.test import Client

from kuaixiang.sla.calendars import package_years
from kuaixiang.sla.models import Calendar, CalendarDay
from tests.sla.conftest import assert_error

UNKNOWN_YEAR = max(package_years()) + 1


def test_both_endpoints_need_a_token(db):
    assert_error(Client().get("/api/v1/calendar/deadline", {"start": "2025-09-30T17:00:00+08:00"}), 401, "unauthorized")
    assert_error(Client().get("/api/v1/calendar/days", {"from": "2025-10-01", "to": "2025-10-02"}), 401, "unauthorized")


class TestDeadline:
    @pytest.mark.parametrize(
        ("params", "due"),
        [
            ({"start": "2025-09-30T17:00:00+08:00", "amount": 1, "unit": "working_days"}, "2025-10-09T23:59:59+08:00"),
            ({"start": "2025-09-30T09:00:00Z", "amount": 5, "unit": "working_days"}, "2025-10-14T23:59:59+08:00"),
            ({"start": "2025-09-30T17:00:00+08:00", "amount": 4, "unit": "working_hours"}, "2025-10-09T12:00:00+08:00"),
            (
                {"start": "2025-10-17T20:00:00+08:00", "amount": 90, "unit": "working_minutes"},
                "2025-10-20T10:30:00+08:00",
            ),
            ({"start": "2025-09-30T17:00:00+08:00", "amount": 24, "unit": "clock_hours"}, "2025-10-01T17:00:00+08:00"),
            (
                {"start": "2025-09-30T17:00:00+08:00", "amount": 30, "unit": "clock_minutes"},
                "2025-09-30T17:30:00+08:00",
            ),
            ({"start": "2025-09-30T10:00:00+08:00", "amount": 7, "unit": "natural_days"}, "2025-10-07T23:59:59+08:00"),
            (
                {"start": "2025-09-30T10:00:00+08:00", "amount": 7, "unit": "natural_days", "holiday_roll": "true"},
                "2025-10-09T23:59:59+08:00",
            ),
            ({"start": "2026-02-14T17:00:00+08:00", "amount": 5, "unit": "working_days"}, "2026-02-28T23:59:59+08:00"),
            (
                {"start": "2025-10-13T11:00:00+08:00", "amount": 1.5, "unit": "working_hours"},
                "2025-10-13T14:00:00+08:00",
            ),
        ],
    )
    def test_due_instants_on_the_default_calendar(self, api, params, due):
        response = api.get("/deadline", params)
        assert response.status_code == 200, response.content
        assert response.json() == {"due": due}

    def test_a_named_calendar_and_its_overrides(self, api):
        local = Calendar.objects.create(code="shenzhen", name="深圳分公司")
        CalendarDay.objects.create(calendar=local, date=date(2025, 10, 9), kind="closure", name="台风停业")
        params = {"start": "2025-09-30T17:00:00+08:00", "amount": 1, "unit": "working_days"}
        assert api.get("/deadline", params).json() == {"due": "2025-10-09T23:59:59+08:00"}
        assert api.get("/deadline", {**params, "calendar": "shenzhen"}).json() == {"due": "2025-10-10T23:59:59+08:00"}

    def test_an_unknown_year_is_422_with_the_year(self, api):
        params = {"start": f"{UNKNOWN_YEAR}-03-02T10:00:00+08:00", "amount": 1, "unit": "working_days"}
        body = assert_error(api.get("/deadline", params), 422, "calendar_year_unknown")
        assert body["details"] == {"year": UNKNOWN_YEAR}
        params = {"start": f"{UNKNOWN_YEAR - 1}-12-31T10:00:00+08:00", "amount": 3, "unit": "working_days"}
        assert (
            assert_error(api.get("/deadline", params), 422, "calendar_year_unknown")["details"]["year"] == UNKNOWN_YEAR
        )

    def test_an_unknown_calendar_is_404(self, api):
        params = {"start": "2025-09-30T17:00:00+08:00", "amount": 1, "unit": "working_days", "calendar": "mars"}
        assert_error(api.get("/deadline", params), 404, "calendar_not_found")

    @pytest.mark.parametrize(
        ("params", "field", "code"),
        [
            ({"unit": "fortnights"}, "unit", "invalid_choice"),
            ({"amount": -1}, "amount", "too_small"),
            ({"amount": "many"}, "amount", "invalid_value"),
            ({"amount": "nan"}, "amount", "not_a_number"),
            ({"amount": 1_000_001}, "amount", "too_large"),
            ({"start": "yesterday"}, "start", "not_a_datetime"),
            ({"start": None}, "start", "field_required"),
        ],
    )
    def test_malformed_parameters_are_400_per_field(self, api, params, field, code):
        base = {"start": "2025-09-30T17:00:00+08:00", "amount": 1, "unit": "working_hours"}
        query = {k: v for k, v in {**base, **params}.items() if v is not None}
        body = assert_error(api.get("/deadline", query), 400, "validation_error")
        assert [(f["field"], f["code"]) for f in body["details"]["fields"]] == [(field, code)]

    @pytest.mark.parametrize(
        ("params", "code"),
        [
            ({"amount": 1.5, "unit": "working_days"}, "amount_not_whole"),
            ({"start": "2025-09-30T17:00:00"}, "naive_datetime"),
        ],
    )
    def test_a_fractional_day_count_and_a_start_without_offset_are_400(self, api, params, code):
        base = {"start": "2025-09-30T17:00:00+08:00", "amount": 1, "unit": "working_hours"}
        assert_error(api.get("/deadline", {**base, **params}), 400, code)


class TestDays:
    def test_national_day_with_reasons(self, api):
        response = api.get("/days", {"from": "2025-09-27", "to": "2025-10-12"})
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["calendar"] == "cn"
        days = {d["date"]: d for d in body["days"]}
        assert len(days) == 16
        assert days["2025-09-27"] | {"hours": None} == {
            "date": "2025-09-27",
            "weekday": "周六",
            "working": False,
            "kind": "weekend",
            "reason": "周末",
            "hours": None,
        }
        assert days["2025-09-28"]["working"] and days["2025-09-28"]["kind"] == "makeup"
        assert days["2025-09-28"]["reason"] == "调休上班（国庆节）"
        assert days["2025-09-28"]["hours"] == [["09:00", "12:00"], ["13:30", "18:00"]]
        assert days["2025-09-29"]["reason"] == "工作日"
        assert [days[f"2025-10-0{i}"]["working"] for i in range(1, 9)] == [False] * 8
        assert days["2025-10-01"]["reason"] == "国庆节"
        assert days["2025-10-06"]["reason"] == "中秋节"
        assert days["2025-10-01"]["hours"] == []
        assert days["2025-10-11"]["kind"] == "makeup"
        assert days["2025-10-12"]["kind"] == "weekend"

    def test_spring_festival_2026(self, api):
        days = api.get("/days", {"from": "2026-02-13", "to": "2026-03-01"}).json()["days"]
        working = [d["date"][5:] for d in days if d["working"]]
        assert working == ["02-13", "02-14", "02-24", "02-25", "02-26", "02-27", "02-28"]
        assert {d["reason"] for d in days if d["kind"] == "holiday"} == {"春节"}

    def test_a_closure_row_shows_its_name(self, api):
        CalendarDay.objects.create(
            calendar=Calendar.objects.get(code="cn"), date=date(2025, 10, 13), kind="closure", name="系统迁移停业"
        )
        day = api.get("/days", {"from": "2025-10-13", "to": "2025-10-13"}).json()["days"][0]
        assert (day["working"], day["kind"], day["reason"]) == (False, "closure", "系统迁移停业")

    def test_a_full_year_is_allowed_but_not_more(self, api):
        assert len(api.get("/days", {"from": "2024-01-01", "to": "2024-12-31"}).json()["days"]) == 366
        body = assert_error(api.get("/days", {"from": "2025-01-01", "to": "2026-01-02"}), 400, "range_too_large")
        assert body["details"] == {"limit": 366, "days": 367}

    def test_a_reversed_range_is_400(self, api):
        assert_error(api.get("/days", {"from": "2025-10-02", "to": "2025-10-01"}), 400, "invalid_range")

    def test_missing_or_malformed_dates_are_400(self, api):
        body = assert_error(api.get("/days", {"to": "2025-10-01"}), 400, "validation_error")
        assert body["details"]["fields"][0]["field"] == "from"
        body = assert_error(api.get("/days", {"from": "2025-13-01", "to": "2025-10-01"}), 400, "validation_error")
        assert body["details"]["fields"][0]["field"] == "from"

    def test_an_unknown_year_is_422(self, api):
        body = assert_error(
            api.get("/days", {"from": f"{UNKNOWN_YEAR - 1}-12-30", "to": f"{UNKNOWN_YEAR}-01-02"}),
            422,
            "calendar_year_unknown",
        )
        assert body["details"] == {"year": UNKNOWN_YEAR}

    def test_an_unknown_calendar_is_404(self, api):
        assert_error(
            api.get("/days", {"from": "2025-10-01", "to": "2025-10-02", "calendar": "mars"}), 404, "calendar_not_found"
        )
