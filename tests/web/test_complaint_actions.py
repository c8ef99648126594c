import pytest

from kuaixiang.complaints.models import Complaint, ComplaintEvent
from tests.personas import register
from tests.web.support import walk


def url(complaint, action):
    return f"/complaints/{complaint.pk}/actions/{action}/"


def snapshot(complaint):
    row = Complaint.objects.values().get(pk=complaint.pk)
    return row, ComplaintEvent.objects.filter(complaint=complaint).count()


def test_a_complaint_walks_its_whole_life_through_the_web_forms(client, org, complaint):
    steps = [
        ("agent", "accept", {}),
        ("agent", "dispatch", {"department_id": org.business.pk}),
        ("lead", "transfer", {"department_id": org.network.pk, "reason": "属于网络问题"}),
        ("handler", "take", {}),
        ("handler", "suspend", {"reason": "等待用户配合测试"}),
        ("handler", "resume", {}),
        ("handler", "return", {"findings": "基站故障", "solution": "已修复并补偿流量"}),
        ("lead", "review_reject", {"reason": "请补充测试数据"}),
        ("handler", "return", {"findings": "基站故障，已测速", "solution": "已修复"}),
        ("lead", "review_pass", {}),
        ("agent", "reply", {"content": "已修复，请重试"}),
        ("agent", "revisit", {"satisfaction": "2", "solved": "false", "comment": "仍然没信号"}),
        ("agent", "reopen", {"reason": "回访不满意"}),
        ("handler", "take", {}),
        ("handler", "return", {"findings": "新增基站", "solution": "已覆盖"}),
        ("lead", "review_pass", {}),
        ("agent", "reply", {"content": "新增基站已开通"}),
        ("agent", "revisit", {"satisfaction": "5", "solved": "true"}),
        ("lead", "archive", {}),
    ]
    for persona, action, data in steps:
        client.force_login(org.persona(persona))
        response = client.post(url(complaint, action), data)
        assert response.status_code == 302, (action, response.content.decode()[:2000])
        assert response["Location"] == f"/complaints/{complaint.pk}/"
    complaint.refresh_from_db()
    assert complaint.status == "archived"
    assert complaint.satisfaction == 5 and complaint.solved is True and complaint.reopen_count == 1
    actions = list(ComplaintEvent.objects.filter(complaint=complaint).values_list("action", flat=True))
    assert actions == ["register"] + [s[1] for s in steps]
    html = client.get(f"/complaints/{complaint.pk}/").content.decode()
    assert "已归档" in html


def test_success_is_confirmed_on_the_page(login, org, complaint):
    response = login(org.agent).post(url(complaint, "accept"), follow=True)
    assert "已完成：受理" in response.content.decode()


def test_refuse_tells_the_reason(login, org, complaint):
    client = login(org.agent)
    assert client.post(url(complaint, "refuse"), {"reason": "不属于受理范围"}).status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == "refused" and complaint.refuse_reason == "不属于受理范围"


def test_merge_accepts_a_complaint_number(login, org, complaint):
    keep = register(org.agent, description="同一用户的另一张工单")
    response = login(org.manager).post(url(complaint, "merge"), {"into": keep.number.lower()})
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == "merged" and complaint.merged_into_id == keep.pk


def test_merge_accepts_an_id(login, org, complaint):
    keep = register(org.agent)
    assert login(org.manager).post(url(complaint, "merge"), {"into": str(keep.pk)}).status_code == 302


def test_merge_into_an_unknown_number_is_a_field_error(login, org, complaint):
    before = snapshot(complaint)
    response = login(org.manager).post(url(complaint, "merge"), {"into": "TS20990101000001"})
    assert response.status_code == 400
    assert "您的数据范围内没有该工单号" in response.content.decode()
    assert snapshot(complaint) == before


def test_merge_into_another_branchs_complaint_is_refused(login, org, complaint):
    theirs = register(org.outside_agent)
    before = snapshot(complaint)
    response = login(org.manager).post(url(complaint, "merge"), {"into": str(theirs.pk)})
    assert response.status_code == 400
    assert "目标工单不存在或不在您的数据范围内" in response.content.decode()
    assert snapshot(complaint) == before


@pytest.mark.parametrize(
    ("action", "data", "field", "message"),
    [
        ("refuse", {}, "reason", "必填项缺失"),
        ("refuse", {"reason": "x" * 10_001}, "reason", "内容过长"),
    ],
)
def test_a_missing_or_bad_payload_is_shown_on_the_action_form_and_changes_nothing(
    login, org, complaint, action, data, field, message
):
    before = snapshot(complaint)
    response = login(org.agent).post(url(complaint, action), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert f'data-field="{field}">' in html and message in html
    assert snapshot(complaint) == before


def test_revisit_needs_a_score_between_1_and_5(login, org, complaint):
    complaint = walk(complaint, org, "reply")
    before = snapshot(complaint)
    response = login(org.agent).post(url(complaint, "revisit"), {"satisfaction": "9", "solved": "true"})
    assert response.status_code == 400
    assert "不能大于 5" in response.content.decode()
    assert snapshot(complaint) == before


def test_dispatch_to_an_unknown_department_is_refused(login, org, complaint):
    complaint = walk(complaint, org, "accept")
    before = snapshot(complaint)
    response = login(org.agent).post(url(complaint, "dispatch"), {"department_id": "999999"})
    assert response.status_code == 400
    assert "部门不存在或已停用" in response.content.decode()
    assert snapshot(complaint) == before


def test_a_forbidden_action_posted_by_hand_gets_403_and_changes_nothing(login, org, complaint):
    before = snapshot(complaint)
    response = login(org.agent).post(url(complaint, "merge"), {"into": "1"})  # agents may not merge
    assert response.status_code == 403
    html = response.content.decode()
    assert 'id="action-error"' in html and "当前角色无权执行该操作" in html
    assert snapshot(complaint) == before


def test_a_department_action_by_another_department_gets_403(login, org, complaint):
    complaint = walk(complaint, org, "dispatch")
    before = snapshot(complaint)
    response = login(org.biz_handler).post(url(complaint, "take"))
    assert response.status_code in (403, 404)  # not in scope at all, or not their department
    assert snapshot(complaint) == before


def test_an_action_in_the_wrong_state_gets_409_and_changes_nothing(login, org, complaint):
    before = snapshot(complaint)
    response = login(org.agent).post(url(complaint, "reply"), {"content": "已处理"})
    assert response.status_code == 409
    assert "不能执行该操作" in response.content.decode()
    assert snapshot(complaint) == before


def test_an_unknown_action_is_a_404(login, org, complaint):
    before = snapshot(complaint)
    response = login(org.agent).post(url(complaint, "explode"))
    assert response.status_code == 404
    assert snapshot(complaint) == before


def test_the_action_form_has_its_own_page_for_browsers_without_javascript(login, org, complaint):
    response = login(org.agent).get(url(complaint, "refuse"))
    assert response.status_code == 200
    assert 'name="reason"' in response.content.decode()


def test_the_action_page_of_an_action_not_open_now_goes_back_to_the_complaint(login, org, complaint):
    response = login(org.agent).get(url(complaint, "archive"), follow=True)
    assert response.redirect_chain[-1][0] == f"/complaints/{complaint.pk}/"
    assert "该工单当前不能执行此操作" in response.content.decode()


def test_actions_need_the_csrf_token(org, complaint):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(org.agent)
    assert client.post(url(complaint, "accept")).status_code == 403
    complaint.refresh_from_db()
    assert complaint.status == "registered"


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("dispatch", {"department_id": "99999999999999999999999"}),
        ("dispatch", {"department_id": "网络部"}),
        ("merge", {"into": "TS" + "9" * 40}),
        ("merge", {"into": "-5"}),
    ],
)
def test_odd_payloads_are_a_400_never_a_500(login, org, complaint, action, data):
    complaint = walk(complaint, org, "accept")
    before = snapshot(complaint)
    response = login(org.manager).post(url(complaint, action), data)
    assert response.status_code == 400
    assert snapshot(complaint) == before


def test_suspend_form_records_the_pause_reason(login, org, complaint):
    client = login(org.agent)
    client.post(url(complaint, "accept"))
    client.post(url(complaint, "dispatch"), {"department_id": org.network.pk})
    handler = login(org.handler)
    handler.post(url(complaint, "take"))
    page = handler.get(f"/complaints/{complaint.pk}/").content.decode()
    assert "等待鉴定" in page

    response = handler.post(url(complaint, "suspend"), {"reason": "送检", "pause_reason": "appraisal"})

    assert response.status_code == 302
    event = ComplaintEvent.objects.filter(complaint=complaint, action="suspend").get()
    assert event.payload["pause_reason"] == "appraisal"
