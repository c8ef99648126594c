"""Triage over the API: graded fields in list/detail, similar complaints, category suggestions, regrade."""

from pathlib import Path

import pytest
from django.conf import settings as django_settings

from kuaixiang.rulepacks import rulepack_load
from kuaixiang.triage.classifier import save_model, train
from tests.api.conftest import assert_error
from tests.personas import register
from tests.triage.test_classifier import synthetic_rows

GRADING = Path(django_settings.BASE_DIR) / "rulepacks" / "telecom" / "grading.yaml"
LONG = "我家小区的宽带从上周五开始就一直断网，打了三次客服电话都说会派人上门，但到现在也没有人来处理"


@pytest.fixture
def agent(api_as):
    return api_as("agent")


@pytest.fixture
def graded(org):
    rulepack_load(GRADING)
    first = register(org.agent, description=LONG)
    second = register(org.agent, description="家里的光猫冒烟起火了")
    return first, second


class TestGradedFields:
    def test_list_items_carry_grading_fields(self, graded, agent):
        first, second = graded
        items = {i["id"]: i for i in agent.get("/complaints").json()["items"]}
        assert items[second.pk]["severity"] == "major" and items[second.pk]["flags"] == ["safety"]
        assert items[second.pk]["repeat_of_id"] is None
        assert {k: items[first.pk][k] for k in ("intent", "request_type", "validity")} == {
            "intent": "grievance",
            "request_type": "complaint",
            "validity": "valid",
        }

    def test_detail_shows_the_matched_rules_and_links(self, org, graded, agent):
        first, _ = graded
        repeat = register(org.agent, description=LONG + "！")
        body = agent.get(f"/complaints/{repeat.pk}").json()
        assert body["repeat_of"] == {"id": first.pk, "name": first.number}
        assert body["duplicate_of"] == {"id": first.pk, "name": first.number}
        assert body["severity"] == "important" and body["validity_reason"] == ""
        assert [r["code"] for r in body["grading"]["rules"]] == ["important-repeat", "important-frequent-caller"]


class TestSimilar:
    def test_near_duplicates_and_same_phone_complaints_are_found_nearest_first(self, org, graded, api_as):
        first, second = graded
        found = api_as("agent").get("/complaints/similar", {"text": LONG + "。", "phone": "138-1234-5678"}).json()
        assert [f["id"] for f in found] == [first.pk, second.pk]
        assert found[0]["distance"] <= 3 and found[0]["same_phone"] and found[1]["distance"] is None
        assert set(found[0]) == {"id", "number", "status", "received_at", "summary", "same_phone", "distance"}

    def test_only_the_callers_scope_and_only_open_complaints(self, org, graded, api_as):
        assert api_as("outside_agent").get("/complaints/similar", {"text": LONG}).json() == []
        first, _ = graded
        api_as("manager").post(f"/complaints/{first.pk}/actions/refuse", {"reason": "重复"})
        assert api_as("agent").get("/complaints/similar", {"text": LONG}).json() == []

    def test_nothing_to_look_up_gives_an_empty_list(self, graded, agent):
        assert agent.get("/complaints/similar").json() == []
        assert agent.get("/complaints/similar", {"phone": "123"}).json() == []  # an unfinished number

    def test_bad_input_is_a_400(self, agent):
        assert_error(agent.get("/complaints/similar", {"limit": 0}), 400, "validation_error")
        assert_error(agent.get("/complaints/similar", {"text": "x" * 10_001}), 400, "validation_error")

    def test_login_is_required(self, org):
        from tests.api.conftest import ApiClient

        assert ApiClient().get("/complaints/similar").status_code == 401


class TestCategorySuggestions:
    @pytest.fixture
    def model_path(self, tmp_path, settings):
        names = {
            "网络质量": "net-mobile-weak",
            "账单费用": "网络质量 / 移动网络",
            "服务态度": "无此分类",
            "物业管理": "物业",
        }
        rows = synthetic_rows(per_label=20)
        model = train([t for _, t in rows], [names[label] for label, _ in rows])
        path = save_model(model, tmp_path / "m.kxm")
        settings.KX_CLASSIFIER_MODEL = str(path)
        return path

    def test_labels_map_to_categories_by_code_then_full_name(self, org, agent, model_path):
        top = agent.get("/complaints/category-suggestions", {"text": "家里宽带断网，信号很差"}).json()
        assert top[0]["category_id"] == org.leaf.pk and top[0]["name"] == org.leaf.full_name
        assert top[0]["label"] == "net-mobile-weak" and 0 < top[0]["confidence"] <= 1
        bill = agent.get("/complaints/category-suggestions", {"text": "话费多扣了要求退费", "k": 1}).json()
        assert [s["category_id"] for s in bill] == [org.leaf.parent_id]
        ids = [s["category_id"] for s in agent.get("/complaints/category-suggestions", {"text": "宽带"}).json()]
        assert len(ids) == len(set(ids)) == 2  # labels without a category are skipped

    def test_no_model_configured_or_a_broken_file_gives_no_suggestions(self, org, agent, settings, tmp_path):
        settings.KX_CLASSIFIER_MODEL = ""
        assert agent.get("/complaints/category-suggestions", {"text": "宽带断网"}).json() == []
        broken = tmp_path / "broken.kxm"
        broken.write_bytes(b"not a zip")
        settings.KX_CLASSIFIER_MODEL = str(broken)
        assert agent.get("/complaints/category-suggestions", {"text": "宽带断网"}).json() == []

    def test_a_new_model_file_is_picked_up_without_restart(self, org, agent, model_path):
        before = agent.get("/complaints/category-suggestions", {"text": "宽带断网"}).json()[0]["category_id"]
        rows = synthetic_rows(per_label=20, seed=3)
        swapped = {"网络质量": "net", "账单费用": "net-mobile-weak", "服务态度": "x", "物业管理": "y"}
        save_model(train([t for _, t in rows], [swapped[label] for label, _ in rows]), model_path)
        after = agent.get("/complaints/category-suggestions", {"text": "宽带断网"}).json()[0]["category_id"]
        assert (before, after) == (org.leaf.pk, org.category.pk)


class TestRegrade:
    def test_the_agent_overrides_and_the_detail_shows_it(self, org, graded, agent):
        first, _ = graded
        response = agent.post(
            f"/complaints/{first.pk}/grading", {"severity": "urgent", "flags": ["media"], "reason": "已上热搜"}
        )
        assert response.status_code == 200, response.content
        body = response.json()
        assert (body["severity"], body["flags"]) == ("urgent", ["media"])
        event = body["timeline"][-1]
        assert (event["action"], event["action_label"]) == ("regrade", "调整分级")
        assert event["payload"]["after"] == {"severity": "urgent", "flags": ["media"]}

    def test_refusals(self, org, graded, api_as):
        first, _ = graded
        assert_error(
            api_as("agent").post(f"/complaints/{first.pk}/grading", {"severity": "x"}), 400, "validation_error"
        )
        assert_error(api_as("agent").post(f"/complaints/{first.pk}/grading", {}), 400, "regrade_unchanged")
        assert_error(
            api_as("leader").post(f"/complaints/{first.pk}/grading", {"severity": "major"}), 403, "role_not_allowed"
        )
        assert_error(
            api_as("outside_agent").post(f"/complaints/{first.pk}/grading", {"severity": "major"}),
            404,
            "complaint_not_found",
        )
