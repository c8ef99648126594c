"""API contract: /api/v1/complaints/{id}/remedies, /api/v1/remedies/{id}[/actions/{action}], 8D, accountability."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kuaixiang.remedies import services
from tests.api.conftest import ApiClient, assert_error, issue_token
from tests.personas import register

BODY = {"type": "compensation", "amount": 80, "responsibility": "company_fault", "justification": "断网三天"}


@pytest.fixture
def api_as(matrix):
    def make(persona: str) -> ApiClient:
        return ApiClient(issue_token(matrix.persona(persona).username))

    return make


def test_within_authority_the_answer_is_201_approved_with_an_empty_chain(api_as, complaint):
    response = api_as("agent").post(f"/complaints/{complaint.pk}/remedies", BODY)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["state"] == "approved" and body["self_approved"] is True
    assert body["chain"] == []
    assert body["complaint"] == {"id": complaint.pk, "number": complaint.number}
    assert body["amount"] in ("80.00", 80, "80")
    assert body["timeline"][0]["action"] == "approve_alone"


def test_above_authority_the_answer_is_201_pending_with_the_chain(api_as, matrix, complaint):
    response = api_as("agent").post(f"/complaints/{complaint.pk}/remedies", {**BODY, "amount": "6000.00"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["state"] == "pending"
    chain = body["chain"]
    assert [s["role"] for s in chain] == ["manager", "head", "leader"]
    assert [s["state"] for s in chain] == ["active", "waiting", "waiting"]
    assert chain[0]["approvers"] == [{"id": matrix.manager.pk, "name": "manager"}]
    assert chain[0]["due_at"]


def test_approve_reject_return_through_the_api(api_as, matrix, complaint):
    remedy_id = api_as("agent").post(f"/complaints/{complaint.pk}/remedies", {**BODY, "amount": 300}).json()["id"]
    # Someone who sees the remedy but is not the current approver: 403; someone who cannot see it: 404.
    assert_error(api_as("leader").post(f"/remedies/{remedy_id}/actions/approve", {}), 403, "not_current_approver")
    assert_error(api_as("manager").post(f"/remedies/{remedy_id}/actions/approve", {}), 403, "not_current_approver")
    assert_error(api_as("head").post(f"/remedies/{remedy_id}/actions/approve", {}), 404, "remedy_not_found")
    assert_error(api_as("lead").post(f"/remedies/{remedy_id}/actions/return", {}), 400, "comment_required")
    response = api_as("lead").post(f"/remedies/{remedy_id}/actions/return", {"comment": "请补充凭证"})
    assert response.status_code == 200 and response.json()["state"] == "returned"
    assert_error(api_as("lead").post(f"/remedies/{remedy_id}/actions/approve", {}), 409, "remedy_not_pending")
    response = api_as("agent").post(f"/remedies/{remedy_id}/resubmit", {"justification": "已补充凭证"})
    assert response.json()["state"] == "pending" and response.json()["round"] == 2
    response = api_as("lead").post(f"/remedies/{remedy_id}/actions/approve", {"comment": "同意"})
    assert response.status_code == 200
    assert response.json()["state"] == "approved"
    response = api_as("agent").post(f"/remedies/{remedy_id}/execute", {"note": "已转账"})
    assert response.json()["state"] == "executed"
    assert_error(api_as("agent").post(f"/remedies/{remedy_id}/execute", {}), 409, "already_executed")


def test_unknown_action_is_a_400(api_as, complaint):
    remedy_id = api_as("agent").post(f"/complaints/{complaint.pk}/remedies", {**BODY, "amount": 300}).json()["id"]
    response = api_as("lead").post(f"/remedies/{remedy_id}/actions/shrug", {})
    assert response.status_code == 400


def test_paying_twice_is_a_409(api_as, complaint):
    assert api_as("agent").post(f"/complaints/{complaint.pk}/remedies", BODY).status_code == 201
    assert_error(api_as("lead").post(f"/complaints/{complaint.pk}/remedies", BODY), 409, "already_requested")


@pytest.mark.parametrize(
    ("patch", "code"),
    [
        ({"type": "cash"}, "invalid_choice"),
        ({"amount": -5}, "too_small"),
        ({"amount": "x"}, "not_a_number"),
        ({"amount": 0}, "amount_required"),
        ({"responsibility": None}, "invalid_choice"),
        ({"justification": ""}, "text_too_short"),
        ({"bonus": True}, "unknown_field"),
    ],
)
def test_bad_input_is_400_with_field_codes_and_chinese_messages(api_as, complaint, patch, code):
    body = assert_error(
        api_as("agent").post(f"/complaints/{complaint.pk}/remedies", {**BODY, **patch}), 400, "validation_error"
    )
    assert code in [f["code"] for f in body["details"]["fields"]], body


def test_missing_fields_and_bad_json(api_as, complaint):
    assert_error(api_as("agent").post(f"/complaints/{complaint.pk}/remedies", {}), 400, "validation_error")
    response = api_as("agent").post(f"/complaints/{complaint.pk}/remedies", raw="{not json")
    assert response.status_code == 400


def test_a_complaint_outside_scope_is_404_and_a_remedy_too(api_as, complaint):
    assert_error(api_as("outside_agent").post(f"/complaints/{complaint.pk}/remedies", BODY), 404, "complaint_not_found")
    remedy_id = api_as("agent").post(f"/complaints/{complaint.pk}/remedies", BODY).json()["id"]
    assert_error(api_as("outside_agent").get(f"/remedies/{remedy_id}"), 404, "remedy_not_found")
    assert_error(api_as("agent").get("/remedies/999999"), 404, "remedy_not_found")


def test_an_approver_outside_the_complaint_scope_sees_the_remedy(api_as, matrix, complaint):
    # The head of network is the 5,000+ chain's second signer but the complaint was never sent there.
    remedy_id = api_as("agent").post(f"/complaints/{complaint.pk}/remedies", {**BODY, "amount": 6000}).json()["id"]
    assert api_as("head").get(f"/remedies/{remedy_id}").status_code == 200
    assert api_as("manager").post(f"/remedies/{remedy_id}/actions/approve", {}).status_code == 200
    assert api_as("head").post(f"/remedies/{remedy_id}/actions/approve", {}).status_code == 200


def test_the_route_does_not_clash_with_the_complaint_routes(api_as, complaint):
    # The complaint router owns /complaints/{id} and /complaints/{id}/actions/{action}; ours adds /remedies.
    assert api_as("agent").get(f"/complaints/{complaint.pk}").status_code == 200
    assert api_as("agent").post(f"/complaints/{complaint.pk}/actions/accept", {}).status_code == 200
    assert api_as("agent").post(f"/complaints/{complaint.pk}/remedies", BODY).status_code == 201
    listed = api_as("agent").get(f"/complaints/{complaint.pk}/remedies")
    assert listed.status_code == 200 and len(listed.json()) == 1
    paths = ApiClient().get("/openapi.json").json()["paths"]
    assert "/api/v1/complaints/{complaint_id}/remedies" in paths
    assert "/api/v1/remedies/{remedy_id}/actions/{action}" in paths


def test_the_approvals_inbox_lists_mine_and_my_delegated_steps(api_as, matrix):
    for _ in range(3):
        api_as("agent").post(f"/complaints/{register(matrix.agent).pk}/remedies", {**BODY, "amount": 300})
    assert len(api_as("lead").get("/remedies/approvals").json()) == 3
    assert api_as("manager").get("/remedies/approvals").json() == []
    today = services.local_today()
    response = api_as("lead").post(
        "/delegations",
        {"delegate_id": matrix.manager.pk, "starts_on": str(today), "ends_on": str(today + timedelta(days=2))},
    )
    assert response.status_code == 201
    client = api_as("manager")
    client.get("/remedies/approvals")  # warm-up: the token's first use writes its last-used time
    with CaptureQueriesContext(connection) as queries:
        assert len(client.get("/remedies/approvals").json()) == 3
    first = len(queries)
    api_as("agent").post(f"/complaints/{register(matrix.agent).pk}/remedies", {**BODY, "amount": 300})
    with CaptureQueriesContext(connection) as queries:
        assert len(client.get("/remedies/approvals").json()) == 4
    assert len(queries) == first, "the approvals list must not run more queries per row"


def test_the_matrix_endpoint_lists_the_limits(api_as):
    rows = api_as("agent").get("/authority/matrix").json()
    limits = {(r["role"], r["remedy_type"]): r["per_complaint"] for r in rows}
    assert limits[("agent", "compensation")] in ("100.00", 100)
    assert limits[("leader", "compensation")] is None


def test_unauthenticated_calls_are_401(complaint):
    assert_error(ApiClient().post(f"/complaints/{complaint.pk}/remedies", BODY), 401, "unauthorized")


def test_eightd_through_the_api(api_as, matrix, complaint):
    client = api_as("manager")
    response = client.post("/eightds", {"complaint_ids": [complaint.pk], "title": "批次 A 灯珠失效"})
    assert response.status_code == 201, response.content
    eightd = response.json()
    assert eightd["number"].startswith("8D") and eightd["complaints"] == [
        {"id": complaint.pk, "number": complaint.number}
    ]
    response = client.post(f"/eightds/{eightd['id']}", {"d4_root_cause": "焊接温度偏低", "stock_checked": 500})
    assert response.json()["d4_root_cause"] == "焊接温度偏低"
    response = client.post(
        f"/eightds/{eightd['id']}/actions", {"kind": "temporary", "description": "隔离库存", "owner_id": matrix.head.pk}
    )
    assert response.status_code == 201 and response.json()["due_at"]
    assert_error(client.post("/eightds", {"complaint_ids": [999999], "title": "x"}), 400, "invalid_complaint")
    assert_error(api_as("outside_agent").get(f"/eightds/{eightd['id']}"), 404, "eightd_not_found")


def test_accountability_through_the_api(api_as, matrix):
    response = api_as("manager").post(
        "/accountability",
        {"person_id": matrix.agent.pk, "finding": "超时未转派", "fine": 100, "zero_performance": True},
    )
    assert response.status_code == 201, response.content
    row = response.json()
    assert row["state"] == "draft" and row["manager"]["id"] == matrix.lead.pk
    assert_error(
        api_as("agent").post("/accountability", {"person_id": matrix.agent.pk, "finding": "x"}), 403, "not_allowed"
    )
    assert api_as("leader").post(f"/accountability/{row['id']}/approve").json()["state"] == "approved"
