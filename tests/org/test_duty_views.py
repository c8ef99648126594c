"""The 值班表 pages: grid, gaps, edit, swap, rotation, Excel import and template download."""

import io
from datetime import date, time

import pytest
import time_machine
from django.test import Client
from openpyxl import Workbook

from kuaixiang.org.models import Shift, ShiftSwap, ShiftTemplate
from kuaixiang.org.services import IMPORT_COLUMNS
from tests.org.duty_helpers import person, shift

NOW = "2026-11-23 02:00:00+00:00"  # Monday 10:00 in Shanghai


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def test_index_redirects_to_own_department_and_lists_departments(org):
    client = client_for(org.lead)
    assert client.get("/duty/")["Location"] == "/duty/a-centre/"
    page = client.get("/duty/?all=1").content.decode()
    assert "甲客服中心" in page and "乙客服中心" not in page


def test_week_grid_shows_shifts_holidays_gaps_and_who_is_on_duty(org, frozen):
    ShiftTemplate.objects.create(department=org.centre, role="lead", name="夜班", start=time(17, 30), end=time(8, 30))
    shift(org, org.lead, org.centre, "lead", date(2026, 11, 23), "08:30", "17:30")
    page = client_for(org.manager).get("/duty/a-centre/").content.decode()
    assert "此刻值班" in page and "lead" in page
    assert "周末" in page  # Saturday and Sunday are marked
    assert 'id="gap-count">7<' in page  # the night shift is open all week
    assert "/duty/shifts/" in page  # a manager gets edit links


def test_month_view_and_navigation(org, frozen):
    shift(org, org.lead, org.centre, "lead", date(2026, 12, 3), "08:30", "17:30")
    page = client_for(org.lead).get("/duty/a-centre/?view=month&start=2026-12-01").content.decode()
    assert "2026 年 12 月" in page and "08:30" in page
    # A bad start date falls back to today.
    assert client_for(org.lead).get("/duty/a-centre/?start=junk").status_code == 200


def test_agents_see_but_cannot_edit(org, frozen):
    client = client_for(org.agent)
    assert client.get("/duty/a-centre/").status_code == 200
    assert client.get("/duty/a-centre/shifts/new/").status_code == 403
    assert client.get("/duty/b-centre/").status_code == 403
    assert client.get("/duty/nowhere/").status_code == 404


def test_add_edit_swap_and_delete_a_shift(org, frozen):
    client = client_for(org.manager)
    response = client.post(
        "/duty/a-centre/shifts/new/",
        {"day": "2026-11-24", "start": "17:30", "end": "08:30", "role": "lead", "kind": "night", "user": org.lead.pk},
    )
    assert response.status_code == 302, response.content.decode()
    s = Shift.objects.get()
    assert (s.end, s.kind) == (time(8, 30), "night")
    response = client.post(f"/duty/shifts/{s.pk}/edit/", {"start": "18:00", "end": "08:00", "user": org.lead.pk})
    assert response.status_code == 302
    lead2 = person("lead2", org.centre, "lead")
    response = client.post(
        f"/duty/shifts/{s.pk}/swap/", {"to_user": lead2.pk, "approved_by": org.manager.pk, "reason": "调休"}
    )
    assert response.status_code == 302
    assert ShiftSwap.objects.get().to_user == lead2
    assert "调休" in client.get("/duty/a-centre/?start=2026-11-24").content.decode()
    # The same swap again is refused on the form, not with a 500.
    page = client.post(f"/duty/shifts/{s.pk}/swap/", {"to_user": lead2.pk, "approved_by": org.manager.pk})
    assert page.status_code == 200 and "替班人与原值班人相同" in page.content.decode()
    assert client.post(f"/duty/shifts/{s.pk}/delete/").status_code == 302
    assert not Shift.objects.exists()


def test_rotation_page_adds_templates_and_generates(org, frozen):
    client = client_for(org.manager)
    response = client.post(
        "/duty/a-centre/rotation/",
        {"form": "template", "role": "lead", "name": "白班", "kind": "day", "start": "08:30", "end": "17:30",
         "days": "all", "min_staff": 1, "required": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    template = ShiftTemplate.objects.get()
    lead2 = person("lead2", org.centre, "lead")
    response = client.post(
        "/duty/a-centre/rotation/",
        {"form": "rotation", "role": "lead", "templates": [template.pk], "people": [org.lead.pk, lead2.pk],
         "first": "2026-11-23", "last": "2026-11-29", "block_days": 1},
    )  # fmt: skip
    assert response.status_code == 302
    assert Shift.objects.count() == 7
    page = client.post(
        "/duty/a-centre/rotation/",
        {"form": "rotation", "role": "head", "templates": [template.pk], "people": [org.lead.pk],
         "first": "2026-11-23", "last": "2026-11-29", "block_days": 1},
    )  # fmt: skip
    assert "不属于该部门和角色" in page.content.decode()


def _xlsx(rows) -> io.BytesIO:
    book = Workbook()
    book.active.append(list(IMPORT_COLUMNS))
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    out.name = "roster.xlsx"
    return out


def test_import_page_shows_row_errors_and_writes_nothing(org, frozen):
    client = client_for(org.manager)
    bad = _xlsx([["2026-11-23", "白班", "08:30", "17:30", "a-centre", "班长", "lead"], ["x", "", "", "", "", "", ""]])
    response = client.post("/duty/a-centre/import/", {"file": bad})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="row-errors"' in page and "<td>3</td>" in page
    assert not Shift.objects.exists()
    good = _xlsx([["2026-11-23", "白班", "08:30", "17:30", "a-centre", "班长", "lead"]])
    assert client.post("/duty/a-centre/import/", {"file": good}).status_code == 302
    assert Shift.objects.count() == 1


def test_template_download(org):
    response = client_for(org.lead).get("/duty/template.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
