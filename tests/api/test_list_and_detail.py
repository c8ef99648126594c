"""GET /api/v1/complaints (filters, cursor pages, bounded queries) and GET /api/v1/complaints/{id}."""

import base64
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kuaixiang import clock
from kuaixiang.complaints.lifecycle import State
from kuaixiang.complaints.models import Complaint
from kuaixiang.complaints.services import complaint_transition
from kuaixiang.triage.models import Category
from tests.api.conftest import assert_error
from tests.lifecycle_paths import complaint_in
from tests.personas import register

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


@pytest.fixture
def agent(api_as):
    return api_as("agent")


@pytest.fixture
def catalogue(org):
    """Complaints that differ in one attribute each, for the filters."""
    mid = org.leaf.parent
    other_root = Category.objects.create(name="资费", code="billing")
    c = {
        "root": register(org.agent, category_id=org.category.pk, received_at=T0, description="网络整体很差"),
        "mid": register(org.agent, category_id=mid.pk, received_at=T0 + timedelta(hours=1), channel="web"),
        "leaf": register(
            org.agent,
            category_id=org.leaf.pk,
            received_at=T0 + timedelta(hours=2),
            severity="urgent",
            complainant_phone="0571-88886666",
            complainant_name="李四",
        ),
        "billing": register(
            org.agent,
            category_id=other_root.pk,
            received_at=T0 + timedelta(days=1),
            subject="多收月租",
            description="本月话费异常",
        ),
        "plain": register(org.agent, received_at=T0 + timedelta(days=2), channel="hotline_12315"),
    }
    complaint_transition(complaint_id=c["leaf"].pk, action="accept", actor=org.agent)
    complaint_transition(
        complaint_id=c["leaf"].pk, action="dispatch", actor=org.agent, data={"department_id": org.network.pk}
    )
    complaint_transition(complaint_id=c["billing"].pk, action="accept", actor=org.agent)
    Complaint.objects.filter(pk=c["plain"].pk).update(due_at=clock.now() - timedelta(hours=1))
    Complaint.objects.filter(pk=c["root"].pk).update(due_at=clock.now() + timedelta(hours=1))
    return c


class TestFilters:
    @pytest.mark.parametrize(
        ("params", "expected"),
        [
            ({}, ["plain", "billing", "leaf", "mid", "root"]),
            ({"status": "registered"}, ["plain", "mid", "root"]),
            ({"status": ["accepted", "dispatched"]}, ["billing", "leaf"]),
            ({"channel": "web"}, ["mid"]),
            ({"severity": "urgent"}, ["leaf"]),
            ({"overdue": "true"}, ["plain"]),
            ({"overdue": "false"}, ["billing", "leaf", "mid", "root"]),
            ({"received_from": "2026-03-01T13:00:00Z"}, ["plain", "billing", "leaf", "mid"]),
            ({"received_to": "2026-03-01T13:00:00Z"}, ["root"]),
            ({"received_from": "2026-03-01T13:00:00Z", "received_to": "2026-03-02T12:00:00Z"}, ["leaf", "mid"]),
            # A naive time is Shanghai time: 21:00 +08:00 is 13:00 UTC.
            ({"received_from": "2026-03-01T21:00:00"}, ["plain", "billing", "leaf", "mid"]),
            ({"q": "话费"}, ["billing"]),
            ({"q": "月租"}, ["billing"]),
            ({"q": "李四"}, ["leaf"]),
            ({"q": "0571 8888 6666"}, ["leaf"]),
            ({"q": "没有这样的内容"}, []),
        ],
    )
    def test_a_filter_narrows_the_list(self, catalogue, agent, params, expected):
        assert ids(agent.get("/complaints", params)) == [catalogue[name].pk for name in expected]

    def test_a_category_filter_includes_its_subtree(self, org, catalogue, agent):
        assert ids(agent.get("/complaints", {"category_id": org.category.pk})) == [
            catalogue[n].pk for n in ("leaf", "mid", "root")
        ]
        assert ids(agent.get("/complaints", {"category_id": org.leaf.pk})) == [catalogue["leaf"].pk]
        assert ids(agent.get("/complaints", {"category_id": 999_999})) == []

    def test_a_department_filter_selects_the_handling_department(self, org, catalogue, agent):
        assert ids(agent.get("/complaints", {"department_id": org.network.pk})) == [catalogue["leaf"].pk]
        assert ids(agent.get("/complaints", {"department_id": org.business.pk})) == []

    def test_search_by_number_and_by_phone(self, catalogue, agent):
        number = catalogue["mid"].number
        assert ids(agent.get("/complaints", {"q": number})) == [catalogue["mid"].pk]
        assert ids(agent.get("/complaints", {"q": number.lower()})) == [catalogue["mid"].pk]
        everyone_else = [catalogue[n].pk for n in ("plain", "billing", "mid", "root")]
        assert ids(agent.get("/complaints", {"q": "138-1234-5678"})) == everyone_else

    @pytest.mark.parametrize(
        ("params", "code"),
        [
            ({"status": "lost"}, "validation_error"),
            ({"channel": "pigeon"}, "validation_error"),
            ({"limit": 0}, "validation_error"),
            ({"limit": 201}, "validation_error"),
            ({"category_id": "x"}, "validation_error"),
            ({"received_from": "soon"}, "validation_error"),
            ({"received_from": "0001-01-01T00:00:00+14:00"}, "datetime_out_of_range"),
            ({"cursor": "not-a-cursor"}, "invalid_cursor"),
            ({"cursor": base64.urlsafe_b64encode(b"2026-01-01T00:00:00+00:00|x").decode()}, "invalid_cursor"),
            (
                {"cursor": base64.urlsafe_b64encode(b"2026-01-01T00:00:00+00:00|" + b"9" * 30).decode()},
                "invalid_cursor",
            ),
        ],
    )
    def test_a_bad_filter_gets_400(self, catalogue, agent, params, code):
        assert_error(agent.get("/complaints", params), 400, code)

    @pytest.mark.parametrize("params", [{"q": "话\x00费"}, {"cursor": "a\x00"}, {"unknown\x00": "1"}])
    def test_a_nul_character_in_a_query_is_refused_not_a_server_error(self, catalogue, agent, params):
        assert_error(agent.get("/complaints", params), 400, "nul_character")


class TestCursorPages:
    def test_pages_cover_every_complaint_once_newest_first(self, org, agent):
        # Several complaints share a received time: the id breaks the tie.
        times = [T0 + timedelta(minutes=m) for m in (0, 0, 0, 5, 5, 9, 12, 12, 12, 12, 30, 31, 31, 40, 41, 42, 43)]
        made = [register(org.agent, received_at=t) for t in times]
        seen, cursor, pages = [], None, 0
        while True:
            params = {"limit": 4, **({"cursor": cursor} if cursor else {})}
            response = agent.get("/complaints", params)
            seen += ids(response)
            pages += 1
            cursor = response.json()["next_cursor"]
            if cursor is None:
                break
        assert pages == 5
        assert len(seen) == len(set(seen)) == len(made)
        expected = sorted(made, key=lambda c: (c.received_at, c.pk), reverse=True)
        assert seen == [c.pk for c in expected]

    def test_a_filter_holds_across_pages(self, org, agent):
        for i in range(7):
            register(org.agent, channel="web" if i % 2 else "phone", received_at=T0 + timedelta(minutes=i))
        first = agent.get("/complaints", {"channel": "web", "limit": 2}).json()
        second = agent.get("/complaints", {"channel": "web", "limit": 2, "cursor": first["next_cursor"]}).json()
        assert (len(first["items"]), len(second["items"])) == (2, 1)
        assert {i["channel"] for i in first["items"] + second["items"]} == {"web"}
        assert second["next_cursor"] is None


class TestQueryCount:
    def _queries(self, agent) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert agent.get("/complaints", {"limit": 200}).status_code == 200
        return len(captured)

    def _fill(self, org, n: int):
        for i in range(n):
            c = register(org.agent, category_id=org.leaf.pk, description=f"第 {i} 单")
            complaint_transition(complaint_id=c.pk, action="accept", actor=org.agent)
            complaint_transition(
                complaint_id=c.pk, action="dispatch", actor=org.agent, data={"department_id": org.network.pk}
            )
            complaint_transition(complaint_id=c.pk, action="take", actor=org.handler)

    def test_the_list_costs_the_same_number_of_queries_for_5_and_50_items(self, org, agent):
        agent.get("/complaints")  # warm the token's last-used stamp
        self._fill(org, 5)
        small = self._queries(agent)
        self._fill(org, 45)
        large = self._queries(agent)
        assert small == large

    def test_the_list_needs_only_a_handful_of_queries(self, org, agent, django_assert_max_num_queries):
        self._fill(org, 50)
        agent.get("/complaints")
        with django_assert_max_num_queries(6):
            response = agent.get("/complaints", {"limit": 200})
        assert len(response.json()["items"]) == 50


class TestDetail:
    def test_detail_has_the_timeline_and_the_callers_allowed_actions(self, org, api_as):
        complaint = complaint_in(org, State.DISPATCHED, complainant_name="王五")
        body = api_as("handler").get(f"/complaints/{complaint.pk}").json()
        assert body["number"] == complaint.number
        assert body["status"] == "dispatched" and body["status_label"] == "已派单"
        assert body["department"] == {"id": org.network.pk, "name": org.network.name}
        assert [(e["action"], e["action_label"], e["from_status"], e["to_status"]) for e in body["timeline"]] == [
            ("register", "登记", "", "registered"),
            ("accept", "受理", "registered", "accepted"),
            ("dispatch", "派单", "accepted", "dispatched"),
        ]
        assert body["timeline"][0]["actor"] == {"id": org.agent.pk, "name": "agent"}
        assert body["allowed_actions"] == ["send_back", "take", "suspend"]

    @pytest.mark.parametrize(
        ("persona", "allowed"),
        [
            ("agent", ["accept", "refuse"]),
            ("lead", ["accept", "refuse", "merge"]),
            ("manager", ["accept", "refuse", "merge"]),
            ("hq_manager", ["accept", "refuse", "merge"]),
            ("pr", []),
            ("leader", []),
        ],
    )
    def test_allowed_actions_depend_on_the_caller(self, org, api_as, persona, allowed):
        complaint = register(org.agent)
        assert api_as(persona).get(f"/complaints/{complaint.pk}").json()["allowed_actions"] == allowed

    def test_roles_that_do_not_call_the_complainant_see_a_masked_phone(self, org, api_as):
        complaint = register(org.agent, complainant_phone="13812345678")
        assert api_as("agent").get(f"/complaints/{complaint.pk}").json()["complainant_phone"] == "13812345678"
        assert api_as("pr").get(f"/complaints/{complaint.pk}").json()["complainant_phone"] == "138****5678"
        listed = api_as("legal").get("/complaints").json()["items"][0]
        assert listed["complainant_phone"] == "138****5678"

    @pytest.mark.parametrize("persona", ["outsider", "outside_agent", "biz_handler", "handler"])
    def test_a_complaint_outside_the_scope_is_not_found(self, org, api_as, persona):
        complaint = register(org.agent)
        assert_error(api_as(persona).get(f"/complaints/{complaint.pk}"), 404, "complaint_not_found")

    @pytest.mark.parametrize("complaint_id", ["999999", "99999999999999999999999999"])
    def test_a_missing_complaint_is_not_found(self, agent, complaint_id):
        assert_error(agent.get(f"/complaints/{complaint_id}"), 404, "complaint_not_found")

    def test_a_non_numeric_id_is_not_found(self, agent):
        assert_error(agent.get("/complaints/abc"), 404, "not_found")


def test_departments_are_listed_as_a_tree_in_preorder(org, agent):
    body = agent.get("/departments").json()
    paths = [d["path"] for d in body]
    assert paths == sorted(paths)
    assert {d["code"] for d in body} >= {"hq", "a", "a-centre", "a-network", "b"}
    network = next(d for d in body if d["code"] == "a-network")
    assert (network["parent_id"], network["level"], network["function"]) == (org.branch.pk, "department", "network")


def test_categories_are_listed_with_their_full_names(org, agent):
    body = agent.get("/categories").json()
    assert [c["full_name"] for c in body] == ["网络质量", "网络质量 / 移动网络", "网络质量 / 移动网络 / 信号弱"]


class TestDataScopeThroughTheApi:
    def test_the_outsider_lists_and_finds_nothing_of_branch_a(self, org, api_as):
        mine = register(org.outside_agent, description="乙分公司的单", complainant_phone="13900000009")
        theirs = register(org.agent, description="甲分公司的单", complainant_phone="13900000008")
        outsider = api_as("outside_agent")
        assert ids(outsider.get("/complaints")) == [mine.pk]
        assert ids(outsider.get("/complaints", {"q": theirs.number})) == []
        assert ids(outsider.get("/complaints", {"q": "13900000008"})) == []
        assert ids(outsider.get("/complaints", {"q": "甲分公司"})) == []
        assert_error(outsider.get(f"/complaints/{theirs.pk}"), 404, "complaint_not_found")

    def test_hq_sees_both_branches_and_a_branch_manager_only_his(self, org, api_as):
        a = register(org.agent, received_at=T0)
        b = register(org.outside_agent, received_at=T0 + timedelta(minutes=1))
        assert ids(api_as("hq_manager").get("/complaints")) == [b.pk, a.pk]
        assert ids(api_as("manager").get("/complaints")) == [a.pk]
