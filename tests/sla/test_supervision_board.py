"""The supervision board counts overdue and soon-due complaints by unit, department and level,
in the viewer's scope, with drill-down, Excel export and an API endpoint."""

from io import BytesIO

import pytest
import time_machine
from openpyxl import load_workbook

from kuaixiang.sla.selectors import BoardFilters, supervision_board, supervision_rows
from kuaixiang.sla.services import escalations_sweep
from tests.api.conftest import ApiClient, assert_error, issue_token
from tests.lifecycle_paths import complaint_in
from tests.personas import register
from tests.sla.conftest import sh
from tests.sla.policies import make_policy

MON = sh(2025, 10, 13, 10, 0)
WARN = sh(2025, 10, 13, 14, 31)  # department_return (4 working hours) past its 75 % point
LATE = sh(2025, 10, 13, 15, 31)  # ... and past its deadline 15:30


@pytest.fixture
def flagged(org):
    """Two complaints at branch A's network department, one at branch B's, one only registered."""
    make_policy()
    with time_machine.travel(MON, tick=False):
        a1 = complaint_in(org, "dispatched")
        a2 = complaint_in(org, "processing")
        registered = register(org.agent)
        b = register(org.outside_agent)
    from kuaixiang.complaints.services import complaint_transition

    with time_machine.travel(MON, tick=False):
        complaint_transition(complaint_id=b.pk, action="accept", actor=org.outside_agent)
        complaint_transition(
            complaint_id=b.pk, action="dispatch", actor=org.outside_agent, data={"department_id": org.other_network.pk}
        )
    return {"a1": a1, "a2": a2, "registered": registered, "b": b}


def test_counts_by_state_unit_department_and_level(org, flagged):
    board = supervision_board(org.hq_manager, now=WARN)
    assert board.totals == {"overdue": 0, "warning": 3, "total": 3}
    escalations_sweep(now=LATE)
    board = supervision_board(org.hq_manager, now=LATE)
    assert board.totals == {"overdue": 3, "warning": 0, "total": 3}
    by_branch = {r["name"]: (r["overdue"], r["warning"]) for r in board.branches}
    assert by_branch == {"甲分公司": (2, 0), "乙分公司": (1, 0)}
    assert board.branches[0]["name"] == "甲分公司"  # most overdue first
    by_department = {r["name"]: (r["branch_name"], r["total"]) for r in board.departments}
    assert by_department == {"甲网络部": ("甲分公司", 2), "乙网络部": ("乙分公司", 1)}
    assert [(r["level"], r["overdue"]) for r in board.levels] == [(2, 3)]


def test_a_complaint_counts_once_and_paused_or_done_stages_do_not_count(org, flagged):
    from kuaixiang.complaints.services import complaint_transition

    complaint_transition(complaint_id=flagged["a1"].pk, action="suspend", actor=org.lead, data={"reason": "等客户"})
    with time_machine.travel(LATE, tick=False):
        complaint_transition(
            complaint_id=flagged["a2"].pk,
            action="return",
            actor=org.handler,
            data={"findings": "基站故障", "solution": "已修复"},
        )
    board = supervision_board(org.hq_manager, now=LATE)
    assert board.totals["total"] == 1  # only branch B's complaint is still running late


def test_the_board_respects_the_data_scope(org, flagged):
    assert supervision_board(org.outside_agent, now=LATE).totals["total"] == 1
    assert supervision_board(org.head, now=LATE).totals["total"] == 2
    assert supervision_board(org.manager, now=LATE).totals["total"] == 2
    assert supervision_board(org.biz_handler, now=LATE).totals["total"] == 0
    assert supervision_board(org.hq_manager, now=LATE).totals["total"] == 3


def test_drill_down_lists_the_slice_earliest_deadline_first(org, flagged):
    board = supervision_board(org.hq_manager, now=LATE, filters=BoardFilters(branch=org.branch.pk, state="overdue"))
    rows = supervision_rows(board)
    assert {r["id"] for r in rows} == {flagged["a1"].pk, flagged["a2"].pk}
    assert all(r["stage"] == "部门回单" and r["state"] == "overdue" for r in rows)
    assert all(r["left"].total_seconds() == -60 for r in rows)  # one working minute late
    assert supervision_rows(supervision_board(org.hq_manager, now=LATE, filters=BoardFilters(state="warning"))) == []
    by_dept = supervision_board(org.hq_manager, now=LATE, filters=BoardFilters(department=org.other_network.pk))
    assert [r["id"] for r in supervision_rows(by_dept)] == [flagged["b"].pk]
    assert supervision_rows(supervision_board(org.hq_manager, now=LATE, filters=BoardFilters(level=1))) == []


def test_the_board_costs_a_fixed_number_of_queries(org, flagged, django_assert_max_num_queries):
    with time_machine.travel(MON, tick=False):
        for _ in range(5):
            complaint_in(org, "dispatched")
    supervision_board(org.hq_manager, now=LATE)  # warm the calendar cache
    with django_assert_max_num_queries(6):
        board = supervision_board(org.hq_manager, now=LATE)
        rows = supervision_rows(board)
    assert len(rows) == board.totals["total"] == 8


# ---------------------------------------------------------------- web page and export


def test_the_page_shows_counts_and_links_to_complaints(client, org, flagged):
    client.force_login(org.hq_manager)
    with time_machine.travel(LATE, tick=False):
        response = client.get("/supervision/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "督办看板" in html and 'data-count="overdue">3<' in html
    assert f'href="/complaints/{flagged["a1"].pk}/"' in html
    assert f"?branch={org.branch.pk}" in html and f"?department={org.network.pk}" in html
    with time_machine.travel(LATE, tick=False):
        drill = client.get("/supervision/", {"department": org.other_network.pk, "state": "overdue"})
    page = drill.content.decode()
    assert f'href="/complaints/{flagged["b"].pk}/"' in page and f'href="/complaints/{flagged["a1"].pk}/"' not in page


def test_the_page_needs_login_and_refuses_bad_filters(client, org):
    assert client.get("/supervision/").status_code == 302
    client.force_login(org.agent)
    assert client.get("/supervision/", {"state": "late"}).status_code == 400
    assert client.get("/supervision/", {"level": "x"}).status_code == 400
    assert client.get("/supervision/export.xlsx", {"branch": "-1"}).status_code == 400


def test_export_is_an_excel_workbook_of_the_same_view(client, org, flagged):
    client.force_login(org.manager)
    with time_machine.travel(LATE, tick=False):
        response = client.get("/supervision/export.xlsx", {"state": "overdue"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(BytesIO(response.content))
    assert book.sheetnames == ["汇总", "明细"]
    summary = [[c for c in row if c is not None] for row in book["汇总"].iter_rows(values_only=True)]
    assert ["甲分公司", 2, 0, 2] in summary and ["甲分公司", "甲网络部", 2, 0, 2] in summary
    detail = list(book["明细"].iter_rows(values_only=True))
    assert detail[0][0] == "工单号"
    assert sorted(r[0] for r in detail[1:]) == sorted([flagged["a1"].number, flagged["a2"].number])
    assert all(r[9] == "已超时" and r[7] == "2025-10-13 15:30" for r in detail[1:])


# ---------------------------------------------------------------- API


def test_api_returns_the_counts(org, flagged):
    api = ApiClient(issue_token(org.manager.username))
    with time_machine.travel(LATE, tick=False):
        response = api.get("/supervision")
        body = response.json()
    assert response.status_code == 200, body
    assert body["totals"] == {"overdue": 2, "warning": 0, "total": 2}
    assert body["branches"] == [{"id": org.branch.pk, "name": "甲分公司", "overdue": 2, "warning": 0, "total": 2}]
    assert body["departments"][0]["branch_id"] == org.branch.pk
    assert body["levels"] == [{"level": 0, "overdue": 2, "warning": 0, "total": 2}]
    assert sorted(body["complaint_ids"]) == sorted([flagged["a1"].pk, flagged["a2"].pk]) and body["selected"] == 2
    with time_machine.travel(LATE, tick=False):
        filtered = api.get("/supervision", {"state": "warning"}).json()
    assert filtered["selected"] == 0 and filtered["totals"]["total"] == 2


def test_api_needs_a_token_and_valid_filters(org):
    assert ApiClient().get("/supervision").status_code == 401
    api = ApiClient(issue_token(org.agent.username))
    assert_error(api.get("/supervision", {"state": "late"}), 400, "validation_error")
    assert_error(api.get("/supervision", {"level": "-1"}), 400, "validation_error")
