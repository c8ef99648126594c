"""POST /api/v1/complaints/{id}/actions/{action}: 200 with the new detail, or 403/409/400/404 and no change."""

import pytest

from kuaixiang.complaints.lifecycle import State
from kuaixiang.complaints.models import Complaint, ComplaintEvent
from tests.api.conftest import assert_error
from tests.lifecycle_paths import complaint_in
from tests.personas import register


def unchanged(complaint: Complaint) -> bool:
    now = Complaint.objects.get(pk=complaint.pk)
    return (
        now.status == complaint.status
        and now.updated_at == complaint.updated_at
        and (ComplaintEvent.objects.filter(complaint=complaint).count() == complaint.events.count())
    )


def test_a_whole_lifecycle_runs_through_the_api(org, api_as):
    agent, lead, handler = api_as("agent"), api_as("lead"), api_as("handler")
    complaint_id = agent.post(
        "/complaints", {"channel": "phone", "complainant_phone": "13812345678", "description": "没信号"}
    ).json()["id"]
    steps = [
        (agent, "accept", None),
        (agent, "dispatch", {"department_id": org.network.pk}),
        (handler, "take", {}),
        (handler, "return", {"findings": "基站故障", "solution": "已修复"}),
        (lead, "review_pass", None),
        (agent, "reply", {"content": "已修复，请重试"}),
        (agent, "revisit", {"satisfaction": 4, "solved": True, "comment": "好了"}),
        (lead, "archive", {}),
    ]
    for client, action, body in steps:
        path = f"/complaints/{complaint_id}/actions/{action}"
        response = client.post(path, raw="") if body is None else client.post(path, body)
        assert response.status_code == 200, (action, response.content)
    detail = response.json()
    assert detail["status"] == "archived"
    assert (detail["satisfaction"], detail["solved"], detail["findings"]) == (4, True, "基站故障")
    assert [e["action"] for e in detail["timeline"]] == ["register"] + [s[1] for s in steps]
    assert detail["closed_at"] is not None


def test_the_answer_is_the_new_detail_with_the_next_allowed_actions(org, api_as):
    complaint = register(org.agent)
    body = api_as("agent").post(f"/complaints/{complaint.pk}/actions/accept").json()
    assert body["status"] == "accepted"
    assert body["allowed_actions"] == ["dispatch"]  # an agent may not suspend
    assert body["timeline"][-1]["action"] == "accept"


@pytest.mark.parametrize("action", ["send_back", "transfer"])
def test_an_action_that_moves_the_complaint_out_of_the_callers_scope_still_answers_200(org, api_as, action):
    complaint = complaint_in(org, State.PROCESSING)
    persona = "handler" if action == "send_back" else "head"
    body = {"reason": "不属于本部门"} | ({"department_id": org.business.pk} if action == "transfer" else {})
    response = api_as(persona).post(f"/complaints/{complaint.pk}/actions/{action}", body)
    assert response.status_code == 200, response.content
    assert response.json()["allowed_actions"] == []
    # ...and from now on it is out of sight.
    assert_error(api_as(persona).get(f"/complaints/{complaint.pk}"), 404, "complaint_not_found")


class TestRefusals:
    def test_a_role_that_may_not_do_the_action_gets_403_role_not_allowed(self, org, api_as):
        complaint = register(org.agent)
        error = assert_error(api_as("pr").post(f"/complaints/{complaint.pk}/actions/accept"), 403, "role_not_allowed")
        assert error["details"] == {"action": "accept", "status": "registered"}
        assert unchanged(complaint)

    def test_a_handler_of_another_department_who_sees_it_gets_403_not_your_department(self, org, api_as):
        # The business handler registered it himself, so he sees it; the network department handles it.
        complaint = register(org.biz_handler)
        hq = api_as("hq_manager")
        hq.post(f"/complaints/{complaint.pk}/actions/accept")
        hq.post(f"/complaints/{complaint.pk}/actions/dispatch", {"department_id": org.network.pk})
        complaint.refresh_from_db()
        response = api_as("biz_handler").post(f"/complaints/{complaint.pk}/actions/take")
        assert_error(response, 403, "not_your_department")
        assert unchanged(complaint)

    def test_a_wrong_state_gets_409_invalid_state(self, org, api_as):
        complaint = register(org.agent)
        response = api_as("lead").post(f"/complaints/{complaint.pk}/actions/review_pass")
        error = assert_error(response, 409, "invalid_state")
        assert "已登记" in error["message"]
        assert unchanged(complaint)

    def test_a_satisfied_revisit_cannot_be_reopened_409(self, org, api_as):
        complaint = complaint_in(org, State.REPLIED)
        agent = api_as("agent")
        agent.post(f"/complaints/{complaint.pk}/actions/revisit", {"satisfaction": 5, "solved": True})
        complaint.refresh_from_db()
        assert_error(
            agent.post(f"/complaints/{complaint.pk}/actions/reopen", {"reason": "再看看"}),
            409,
            "reopen_needs_unsatisfied_revisit",
        )
        assert unchanged(complaint)

    @pytest.mark.parametrize(
        ("action", "body", "code", "field_code"),
        [
            ("dispatch", None, "validation_error", "field_required"),
            ("dispatch", {"department_id": "网络部"}, "validation_error", "not_an_integer"),
            ("dispatch", {"department_id": 0}, "validation_error", "too_small"),
            ("dispatch", {"department_id": 2**70}, "validation_error", "too_large"),
            ("dispatch", {"department_id": 999_999}, "unknown_department", None),
            ("dispatch", {"department_id": 1, "reason": "多余"}, "validation_error", "unknown_field"),
            ("dispatch", {"department_id": 1, "colour": "red"}, "validation_error", "unknown_field"),
            ("suspend", {"reason": ""}, "validation_error", "text_too_short"),
            ("suspend", {"reason": "长" * 10_001}, "validation_error", "text_too_long"),
            ("suspend", {"reason": "\x00"}, "validation_error", "nul_character"),
            ("merge", {"into_id": 999_999}, "unknown_complaint", None),
        ],
    )
    def test_a_bad_payload_gets_400_and_changes_nothing(self, org, api_as, action, body, code, field_code):
        complaint = complaint_in(org, State.ACCEPTED)
        response = api_as("lead").post(f"/complaints/{complaint.pk}/actions/{action}", body)
        error = assert_error(response, 400, code)
        if field_code:
            assert field_code in [f["code"] for f in error["details"]["fields"]]
        assert unchanged(complaint)

    def test_an_unknown_department_names_the_id(self, org, api_as):
        complaint = complaint_in(org, State.ACCEPTED)
        response = api_as("agent").post(f"/complaints/{complaint.pk}/actions/dispatch", {"department_id": 424242})
        assert assert_error(response, 400, "unknown_department")["details"] == {"department_id": 424242}

    def test_an_inactive_department_is_unknown(self, org, api_as):
        org.business.active = False
        org.business.save()
        complaint = complaint_in(org, State.ACCEPTED)
        response = api_as("agent").post(
            f"/complaints/{complaint.pk}/actions/dispatch", {"department_id": org.business.pk}
        )
        assert_error(response, 400, "unknown_department")

    def test_malformed_json_gets_400(self, org, api_as):
        complaint = complaint_in(org, State.ACCEPTED)
        response = api_as("agent").post(f"/complaints/{complaint.pk}/actions/dispatch", raw='{"department_id": ')
        assert_error(response, 400, "malformed_request")
        assert unchanged(complaint)

    def test_an_unknown_action_gets_404(self, org, api_as):
        complaint = register(org.agent)
        assert_error(api_as("admin").post(f"/complaints/{complaint.pk}/actions/delete"), 404, "unknown_action")

    @pytest.mark.parametrize("persona", ["outsider", "outside_agent", "handler"])
    def test_a_complaint_outside_the_scope_gets_404(self, org, api_as, persona):
        complaint = register(org.agent)
        response = api_as(persona).post(f"/complaints/{complaint.pk}/actions/accept")
        assert_error(response, 404, "complaint_not_found")
        assert unchanged(complaint)

    def test_a_missing_complaint_gets_404(self, org, api_as):
        assert_error(api_as("admin").post("/complaints/999999/actions/accept"), 404, "complaint_not_found")

    def test_without_a_token_gets_401(self, org, api_as):
        from tests.api.conftest import ApiClient

        complaint = register(org.agent)
        assert_error(ApiClient().post(f"/complaints/{complaint.pk}/actions/accept"), 401, "unauthorized")
        assert unchanged(complaint)
