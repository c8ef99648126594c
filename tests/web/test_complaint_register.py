from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kuaixiang import clock
from kuaixiang.complaints.models import Attachment, Complaint, ComplaintEvent
from tests.web.support import field_errors

URL = "/complaints/new/"


def valid(**overrides) -> dict:
    data = {
        "channel": "hotline_12345",
        "external_id": "12345-0001",
        "complainant_name": "张先生",
        "complainant_phone": "138 1234 5678",
        "received_at": "2026-01-05T09:30",
        "place": "朝阳区望京营业厅",
        "subject": "营业员",
        "description": "营业员态度恶劣，拒绝办理携号转网",
        "appeal": "要求道歉并办理",
        "amount_claimed": "120.50",
        "severity": "important",
        "extra_key": ["product", "batch", ""],
        "extra_value": ["5G套餐", "B-17", ""],
        "idempotency_key": "form-1",
    }
    data.update(overrides)
    return data


@pytest.fixture
def agent(login, org):
    return login(org.agent)


def test_the_form_lists_channels_and_the_category_tree_with_full_names(agent, org):
    html = agent.get(URL).content.decode()
    assert 'value="hotline_12315"' in html and "12315热线" in html
    assert "网络质量 / 移动网络 / 信号弱" in html
    assert 'name="attachments"' in html and "multiple" in html


def test_registering_saves_every_field_and_opens_the_new_complaint(agent, org):
    response = agent.post(URL, valid(category_id=str(org.leaf.pk)))
    complaint = Complaint.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/complaints/{complaint.pk}/"
    assert complaint.channel == "hotline_12345"
    assert complaint.external_id == "12345-0001"
    assert complaint.complainant_phone == "13812345678"
    assert complaint.received_at.astimezone(clock.SHANGHAI).strftime("%Y-%m-%d %H:%M") == "2026-01-05 09:30"
    assert complaint.place == "朝阳区望京营业厅" and complaint.subject == "营业员"
    assert complaint.appeal == "要求道歉并办理"
    assert complaint.amount_claimed == Decimal("120.50")
    assert complaint.severity == "important"
    assert complaint.category_id == org.leaf.pk
    assert complaint.extra == {"product": "5G套餐", "batch": "B-17"}
    assert complaint.registered_by == org.agent and complaint.intake_department == org.centre
    html = agent.get(response["Location"]).content.decode()
    assert f"工单 {complaint.number} 已登记" in html


def test_attachments_are_saved_with_the_complaint(agent, org):
    files = [
        SimpleUploadedFile("发票.pdf", b"%PDF-1.4 test", content_type="application/pdf"),
        SimpleUploadedFile("现场.jpg", b"\xff\xd8\xff jpeg", content_type="image/jpeg"),
    ]
    response = agent.post(URL, {**valid(), "attachments": files})
    assert response.status_code == 302
    complaint = Complaint.objects.get()
    assert sorted(a.name for a in complaint.attachments.all()) == ["发票.pdf", "现场.jpg"]
    assert ComplaintEvent.objects.filter(complaint=complaint, action="attach").count() == 2


def test_an_anonymous_complaint_needs_no_phone(agent, org):
    response = agent.post(URL, valid(complainant_phone="", complainant_name="", anonymous="on", external_id=""))
    assert response.status_code == 302
    assert Complaint.objects.get().anonymous is True


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"channel": ""}, "channel", "必填项缺失"),
        ({"channel": "pigeon"}, "channel", "取值无效"),
        ({"description": "   "}, "description", "必填项缺失"),
        ({"description": "长" * 10_001}, "description", "内容过长，最多 10000 个字符"),
        ({"complainant_phone": "12345"}, "complainant_phone", "不是有效的大陆手机号或固定电话"),
        ({"complainant_phone": ""}, "complainant_phone", "非匿名投诉必须填写联系电话"),
        ({"received_at": "昨天"}, "received_at", "应为 ISO 8601 时间"),
        ({"amount_claimed": "很多"}, "amount_claimed", "应为数字"),
        ({"amount_claimed": "-1"}, "amount_claimed", "不能小于 0"),
        ({"category_id": "abc"}, "category_id", "应为整数"),
        ({"severity": "apocalyptic"}, "severity", "取值无效"),
    ],
)
def test_invalid_fields_are_shown_next_to_the_field_in_chinese_and_nothing_is_written(
    agent, org, overrides, field, message
):
    response = agent.post(URL, valid(**overrides))
    assert response.status_code == 400
    errors = field_errors(response.content.decode())
    assert any(message in m for m in errors.get(field, [])), errors
    assert "本次提交未保存任何内容" in response.content.decode()
    assert not Complaint.objects.exists()


def test_a_received_time_in_the_future_is_refused(agent, org):
    future = (clock.now() + timedelta(days=2)).astimezone(clock.SHANGHAI).strftime("%Y-%m-%dT%H:%M")
    response = agent.post(URL, valid(received_at=future))
    assert response.status_code == 400
    assert "接收时间不能晚于当前时间" in field_errors(response.content.decode())["received_at"][0]


def test_an_unknown_category_posted_by_hand_is_refused_on_the_field(agent, org):
    response = agent.post(URL, valid(category_id="999999"))
    assert response.status_code == 400
    assert "投诉分类不存在或已停用" in field_errors(response.content.decode())["category_id"][0]
    assert not Complaint.objects.exists()


def test_an_extra_value_without_a_name_is_refused(agent, org):
    response = agent.post(URL, valid(extra_key=["", "batch"], extra_value=["孤儿值", "B-1"]))
    assert response.status_code == 400
    html = response.content.decode()
    assert "扩展字段的每个取值都需要填写名称" in html
    assert 'value="孤儿值"' in html  # the rows come back for correction
    assert not Complaint.objects.exists()


def test_the_form_keeps_what_was_typed_after_an_error(agent, org):
    html = agent.post(URL, valid(complainant_phone="12345")).content.decode()
    assert "营业员态度恶劣，拒绝办理携号转网" in html
    assert 'value="朝阳区望京营业厅"' in html


def test_a_refused_attachment_rolls_back_the_whole_registration(agent, org, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    files = [
        SimpleUploadedFile("ok.pdf", b"%PDF-1.4", content_type="application/pdf"),
        SimpleUploadedFile("virus.exe", b"MZ", content_type="application/x-msdownload"),
    ]
    response = agent.post(URL, {**valid(), "attachments": files})
    assert response.status_code == 400
    assert "virus.exe：不支持该类型的附件" in field_errors(response.content.decode())["attachments"][0]
    assert not Complaint.objects.exists() and not Attachment.objects.exists() and not ComplaintEvent.objects.exists()
    assert not [p for p in tmp_path.rglob("*") if p.is_file()], "files of a rolled-back registration stay behind"


def test_a_double_submit_of_the_same_form_registers_once(agent, org):
    data = valid(external_id="")
    first = agent.post(URL, data)
    second = agent.post(URL, data)
    assert Complaint.objects.count() == 1
    assert first["Location"] == second["Location"]


def test_a_known_external_id_opens_the_existing_complaint(agent, org):
    agent.post(URL, valid(idempotency_key="a"))
    response = agent.post(URL, valid(idempotency_key="b"), follow=True)
    assert Complaint.objects.count() == 1
    assert "此前已登记为" in response.content.decode()


@pytest.mark.parametrize(
    "overrides",
    [
        {"description": "含\x00空字符"},
        {"received_at": "0001-01-01T00:00"},
        {"received_at": "9999-12-31T23:59"},
        {"category_id": "99999999999999999999999"},
        {"amount_claimed": "1e400"},
        {"extra_key": ["k" * 300], "extra_value": ["v" * 10_001]},
    ],
)
def test_odd_input_is_a_400_never_a_500(agent, org, overrides):
    response = agent.post(URL, valid(**overrides))
    assert response.status_code == 400
    assert not Complaint.objects.exists()
