import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kuaixiang.complaints.services import allowed_actions, attachment_add
from tests.personas import register
from tests.web.support import STEPS, action_buttons, walk


def test_the_detail_page_shows_the_fields_and_the_timeline(login, org, complaint):
    walk(complaint, org, "return")
    html = login(org.agent).get(f"/complaints/{complaint.pk}/").content.decode()
    for text in (complaint.number, "张先生", "13812345678", "营业厅", "手机没有信号", "5G套餐", "甲网络部", "基站故障"):
        assert text in html
    timeline = html.split('id="timeline"')[1]
    for label in ("登记", "受理", "派单", "接单", "回单"):
        assert label in timeline
    assert "已派单 → 处理中" in timeline


@pytest.mark.parametrize(
    ("persona", "shown"), [("agent", "13812345678"), ("hq_manager", "13812345678"), ("pr", "138****5678")]
)
def test_the_phone_is_masked_for_roles_that_may_not_see_it(login, org, persona, shown):
    complaint = register(org.agent)
    html = login(org.persona(persona)).get(f"/complaints/{complaint.pk}/").content.decode()
    assert f'id="complainant-phone">{shown}<' in html
    if "*" in shown:
        assert "13812345678" not in html


PERSONAS = ("agent", "lead", "handler", "head", "manager", "biz_handler", "hq_manager", "leader", "pr", "outsider")


@pytest.mark.parametrize("until", [None] + [step[0] for step in STEPS])
def test_only_the_allowed_actions_are_buttons(client, org, complaint, until):
    if until:
        complaint = walk(complaint, org, until)
    for persona in PERSONAS:
        user = org.persona(persona)
        client.force_login(user)
        response = client.get(f"/complaints/{complaint.pk}/")
        if response.status_code == 404:  # out of this persona's data scope (checked in test_data_scope)
            assert persona not in ("agent", "manager", "hq_manager"), persona
            continue
        expected = set(allowed_actions(complaint, user))
        html = response.content.decode()
        assert action_buttons(html) == expected, persona
        assert ('id="no-actions"' in html) == (not expected)


def test_each_action_with_fields_has_its_form(login, org, complaint):
    walk(complaint, org, "accept")
    html = login(org.manager).get(f"/complaints/{complaint.pk}/").content.decode()
    dispatch = html.split('id="modal-dispatch"')[1].split('class="modal fade"')[0]
    assert 'name="department_id"' in dispatch and "甲网络部" in dispatch and "乙网络部" in dispatch
    merge = html.split('id="modal-merge"')[1].split('class="modal fade"')[0]
    assert 'name="into"' in merge


def test_the_revisit_form_asks_satisfaction_and_solved_separately(login, org, complaint):
    walk(complaint, org, "reply")
    html = login(org.agent).get(f"/complaints/{complaint.pk}/").content.decode()
    revisit = html.split('id="modal-revisit"')[1]
    assert all(f'name="satisfaction" value="{i}"' in revisit for i in range(1, 6))
    assert 'name="solved" value="true"' in revisit and 'name="solved" value="false"' in revisit
    assert 'name="comment"' in revisit


def test_attachments_are_listed_and_downloadable_within_scope(login, org, complaint):
    upload = SimpleUploadedFile("录音.mp3", b"ID3 audio", content_type="audio/mpeg")
    attachment = attachment_add(complaint_id=complaint.pk, actor=org.agent, upload=upload)
    client = login(org.agent)
    assert "录音.mp3" in client.get(f"/complaints/{complaint.pk}/").content.decode()
    response = client.get(f"/complaints/{complaint.pk}/attachments/{attachment.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"ID3 audio"
    assert "attachment;" in response["Content-Disposition"]
    assert login(org.outsider).get(f"/complaints/{complaint.pk}/attachments/{attachment.pk}/").status_code == 404


def test_files_can_be_added_on_the_detail_page(login, org, complaint):
    client = login(org.agent)
    files = [SimpleUploadedFile("a.txt", b"a", content_type="text/plain")]
    response = client.post(f"/complaints/{complaint.pk}/attachments/", {"attachments": files})
    assert response.status_code == 302
    assert complaint.attachments.count() == 1


def test_a_refused_upload_shows_the_reason_with_400(login, org, complaint):
    files = [SimpleUploadedFile("x.exe", b"MZ", content_type="application/x-msdownload")]
    response = login(org.agent).post(f"/complaints/{complaint.pk}/attachments/", {"attachments": files})
    assert response.status_code == 400
    assert "不支持该类型的附件" in response.content.decode()
    assert complaint.attachments.count() == 0


def test_an_unknown_complaint_is_a_404_page_not_a_500(login, org):
    response = login(org.agent).get("/complaints/987654/")
    assert response.status_code == 404
    assert "工单不存在或不在您的数据范围内" in response.content.decode()
