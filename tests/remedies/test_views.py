"""The HTML pages: request form on the complaint, approvals inbox, detail, matrix, report, 8D, accountability."""

from decimal import Decimal
from io import BytesIO

import pytest
from django.test import Client
from docx import Document
from openpyxl import load_workbook

from kuaixiang.remedies import capa, services
from kuaixiang.remedies.models import Remedy
from tests.personas import PASSWORD, register
from tests.remedies.conftest import request


def login(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_the_complaint_page_shows_the_form_link_and_executed_remedies(matrix, complaint):
    remedy = request(matrix.agent, complaint, Decimal(80))
    services.remedy_execute(remedy_id=remedy.pk, actor=matrix.agent)
    page = login(matrix.agent).get(f"/complaints/{complaint.pk}/").content.decode()
    assert "申请补偿/退费" in page
    assert f'data-remedy="{remedy.pk}" data-state="executed"' in page
    assert "已执行 1 笔，共 ¥80.00" in page


def test_posting_the_form_within_authority_approves_at_once(matrix, complaint):
    client = login(matrix.agent)
    assert client.get(f"/remedies/complaint/{complaint.pk}/new/").status_code == 200
    response = client.post(
        f"/remedies/complaint/{complaint.pk}/new/",
        {"type": "compensation", "amount": "60", "responsibility": "company_fault", "justification": "补偿"},
    )
    remedy = Remedy.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/remedies/{remedy.pk}/"
    assert remedy.state == "approved"


def test_a_bad_form_is_shown_again_with_chinese_errors_and_nothing_written(matrix, complaint):
    response = login(matrix.agent).post(
        f"/remedies/complaint/{complaint.pk}/new/",
        {"type": "compensation", "amount": "abc", "responsibility": "company_fault", "justification": ""},
    )
    assert response.status_code == 400
    assert "应为数字" in response.content.decode()
    assert not Remedy.objects.exists()


def test_a_second_payout_form_is_a_409_page(matrix, complaint):
    request(matrix.agent, complaint, Decimal(80))
    response = login(matrix.lead).post(
        f"/remedies/complaint/{complaint.pk}/new/",
        {"type": "compensation", "amount": "10", "responsibility": "unclear", "justification": "再补"},
    )
    assert response.status_code == 409 and "不能重复支付" in response.content.decode()


def test_the_approver_decides_from_the_inbox(matrix, complaint):
    remedy = request(matrix.agent, complaint, Decimal(300))
    client = login(matrix.lead)
    page = client.get("/remedies/").content.decode()
    assert f'data-remedy="{remedy.pk}"' in page
    response = client.post(f"/remedies/{remedy.pk}/actions/approve/", {"comment": "同意", "next": "inbox"})
    assert response.status_code == 302 and response["Location"] == "/remedies/"
    remedy.refresh_from_db()
    assert remedy.state == "approved"
    assert "没有待您审批的申请" in client.get("/remedies/").content.decode()


def test_someone_else_cannot_decide_from_the_page(matrix, complaint):
    remedy = request(matrix.agent, complaint, Decimal(300))
    assert login(matrix.manager).post(f"/remedies/{remedy.pk}/actions/approve/", {}).status_code == 403
    detail = login(matrix.manager).get(f"/remedies/{remedy.pk}/").content.decode()
    assert 'id="decide"' not in detail
    assert 'id="decide"' in login(matrix.lead).get(f"/remedies/{remedy.pk}/").content.decode()


def test_the_detail_page_shows_the_chain_and_timeline(matrix, complaint):
    remedy = request(matrix.agent, complaint, Decimal(6000))
    services.remedy_decide(remedy_id=remedy.pk, actor=matrix.manager, action="approve", comment="同意")
    page = login(matrix.agent).get(f"/remedies/{remedy.pk}/").content.decode()
    assert page.count("data-step=") == 3
    assert 'data-step="2" data-state="active"' in page
    assert "5000 元以上逐级会签" in page and "提交申请" in page


def test_matrix_delegations_report_pages_render(matrix, complaint):
    client = login(matrix.manager)
    page = client.get("/remedies/authority/").content.decode()
    assert "授权矩阵" in page and "¥100" in page and "不限" in page and "5000 元以上逐级会签" in page
    assert client.get("/remedies/delegations/").status_code == 200
    response = client.post(
        "/remedies/delegations/", {"delegate_id": matrix.lead.pk, "starts_on": "2026-12-01", "ends_on": "2026-11-01"}
    )
    assert response.status_code == 400 and "结束日期不能早于开始日期" in response.content.decode()
    remedy = request(matrix.agent, complaint, Decimal(80))
    services.remedy_execute(remedy_id=remedy.pk, actor=matrix.agent)
    page = client.get("/remedies/report/").content.decode()
    assert 'id="report-count">1<' in page
    assert client.get("/remedies/report/?from=bad").status_code == 400


def test_the_report_exports_to_excel(matrix, complaint):
    remedy = request(matrix.agent, complaint, Decimal(80))
    services.remedy_execute(remedy_id=remedy.pk, actor=matrix.agent)
    response = login(matrix.manager).get("/remedies/report.xlsx")
    assert response.status_code == 200
    book = load_workbook(BytesIO(response.content))
    assert book.sheetnames == ["汇总", "明细"]
    rows = list(book["明细"].iter_rows(values_only=True))
    assert rows[1][0] == complaint.number and rows[1][2] == 80


def test_8d_pages_and_word_export(matrix, complaint):
    client = login(matrix.manager)
    assert client.get(f"/remedies/8d/new/?complaint={complaint.pk}").status_code == 200
    response = client.post("/remedies/8d/new/", {"complaint_ids": [complaint.pk], "title": "灯珠失效"})
    assert response.status_code == 302
    eightd = capa.eightd_visible(matrix.manager).get()
    response = client.post(f"/remedies/8d/{eightd.pk}/", {"title": "灯珠失效", "d4_root_cause": "回流焊温度偏低"})
    assert response.status_code == 302
    client.post(
        f"/remedies/8d/{eightd.pk}/actions/",
        {"kind": "temporary", "description": "隔离库存", "owner_id": matrix.head.pk},
    )
    page = client.get(f"/remedies/8d/{eightd.pk}/").content.decode()
    assert "回流焊温度偏低" in page and "隔离库存" in page
    assert "灯珠失效" in client.get("/remedies/8d/").content.decode()
    response = client.get(f"/remedies/8d/{eightd.pk}/export.docx")
    text = "\n".join(p.text for p in Document(BytesIO(response.content)).paragraphs)
    assert "D4 根本原因分析" in text and "回流焊温度偏低" in text
    bad = client.post(f"/remedies/8d/{eightd.pk}/", {"title": "灯珠失效", "stock_checked": "1", "stock_isolated": "5"})
    assert bad.status_code == 400


def test_accountability_page_records_and_approves(matrix):
    client = login(matrix.manager)
    response = client.post(
        "/remedies/accountability/",
        {"person_id": matrix.agent.pk, "finding": "2 日内未传递", "fine": "100", "zero_performance": "on"},
    )
    assert response.status_code == 302
    assert (
        login(matrix.agent)
        .post("/remedies/accountability/", {"person_id": matrix.agent.pk, "finding": "x"})
        .status_code
        == 403
    )
    from kuaixiang.remedies.models import Accountability

    row = Accountability.objects.get()
    assert login(matrix.leader).post(f"/remedies/accountability/{row.pk}/approve/").status_code == 302
    page = login(matrix.leader).get("/remedies/accountability/").content.decode()
    assert "绩效清零" in page and "agent（责任人）" in page and "lead（直接主管）" in page


@pytest.mark.parametrize(
    "path",
    [
        "/remedies/",
        "/remedies/authority/",
        "/remedies/report/",
        "/remedies/8d/",
        "/remedies/accountability/",
        "/remedies/delegations/",
    ],
)
def test_pages_need_a_login(db, path):
    response = Client().get(path)
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.parametrize(
    "path",
    [
        "/remedies/99999999999999999999999/",
        "/remedies/complaint/99999999999999999999999/new/",
        "/remedies/8d/99999999999999999999999/",
        "/remedies/8d/99999999999999999999999/export.docx",
    ],
)
def test_huge_ids_are_404_not_500(matrix, path):
    assert login(matrix.manager).get(path).status_code == 404


def test_huge_ids_in_forms_are_400_not_500(matrix):
    client = login(matrix.manager)
    huge = "9" * 30
    assert client.post("/remedies/accountability/", {"person_id": huge, "finding": "x"}).status_code == 400
    response = client.post(
        "/remedies/delegations/", {"delegate_id": huge, "starts_on": "2026-12-01", "ends_on": "2026-12-02"}
    )
    assert response.status_code == 400


def test_the_inbox_page_runs_a_fixed_number_of_queries(matrix):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(matrix.lead)
    for _ in range(2):
        request(matrix.agent, register(matrix.agent), Decimal(300))
    client.get("/remedies/")
    with CaptureQueriesContext(connection) as two:
        client.get("/remedies/")
    for _ in range(3):
        request(matrix.agent, register(matrix.agent), Decimal(300))
    with CaptureQueriesContext(connection) as five:
        page = client.get("/remedies/").content.decode()
    assert page.count("data-remedy=") == 5
    assert len(five) == len(two)
