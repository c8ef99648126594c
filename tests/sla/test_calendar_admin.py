"""The calendar and its override rows are editable in the admin."""

import pytest

from kuaixiang.sla.models import Calendar, CalendarDay

pytestmark = pytest.mark.django_db


def test_the_calendar_pages_render(admin_client):
    cn = Calendar.objects.get(code="cn")
    CalendarDay.objects.create(calendar=cn, date="2027-10-01", kind="holiday", name="国庆节")
    for url in [
        "/admin/sla/calendar/",
        f"/admin/sla/calendar/{cn.pk}/change/",
        "/admin/sla/calendarday/",
        "/admin/sla/calendarday/add/",
    ]:
        assert admin_client.get(url).status_code == 200, url


def test_adding_an_override_row_in_the_admin_changes_the_calendar(admin_client):
    from datetime import date

    from kuaixiang.sla.calendars import calendar_get

    cn = Calendar.objects.get(code="cn")
    assert calendar_get().day(date(2025, 10, 13)).working
    response = admin_client.post(
        "/admin/sla/calendarday/add/",
        {"calendar": cn.pk, "date": "2025-10-13", "kind": "closure", "name": "系统迁移停业"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert not calendar_get().day(date(2025, 10, 13)).working


def test_the_openapi_schema_lists_both_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/calendar/deadline" in paths
    assert "/api/v1/calendar/days" in paths
    names = {p["name"] for p in paths["/api/v1/calendar/days"]["get"]["parameters"]}
    assert {"from", "to", "calendar"} <= names
