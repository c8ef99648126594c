"""Triage in the web UI: the registration assistant (htmx), the grading panel and the override form."""

from pathlib import Path

import pytest
from django.conf import settings as django_settings

from kuaixiang.complaints.models import Complaint, ComplaintEvent
from kuaixiang.rulepacks import rulepack_load
from kuaixiang.triage.classifier import save_model, train
from tests.personas import register
from tests.triage.test_classifier import synthetic_rows

GRADING = Path(django_settings.BASE_DIR) / "rulepacks" / "telecom" / "grading.yaml"
LONG = "我家小区的宽带从上周五开始就一直断网，打了三次客服电话都说会派人上门，但到现在也没有人来处理"
ASSIST = "/complaints/new/assist/"


@pytest.fixture
def rules(org):
    rulepack_load(GRADING)


@pytest.fixture
def agent(login, org):
    return login(org.agent)


class TestAssistant:
    def test_the_form_asks_for_help_as_the_agent_types(self, agent):
        html = agent.get("/complaints/new/").content.decode()
        assert 'id="kx-assist"' in html and f'hx-get="{ASSIST}"' in html
        assert 'hx-trigger="input changed delay:400ms"' in html

    def test_similar_open_complaints_by_text_and_by_phone(self, rules, org, agent):
        first = register(org.agent, description=LONG)
        other = register(org.agent, complainant_phone="13900000000", description="营业厅排队两个小时")
        html = agent.get(ASSIST, {"description": LONG + "！", "complainant_phone": "13900000000"}).content.decode()
        assert f'data-similar="{first.pk}"' in html and f'data-similar="{other.pk}"' in html
        assert html.index(first.number) < html.index(other.number)  # nearest text first
        assert "内容相似" in html and "同一电话" in html

    def test_nothing_similar_says_so_and_bad_input_is_no_error(self, org, agent):
        response = agent.get(ASSIST, {"description": "x" * 20_000, "complainant_phone": "abc"})
        assert response.status_code == 200 and "暂无相似的未结工单" in response.content.decode()

    def test_suggestions_and_prefill_from_the_configured_model(self, org, agent, settings, tmp_path):
        rows = synthetic_rows(per_label=20)
        names = {"网络质量": "net-mobile-weak", "账单费用": "net", "服务态度": "x", "物业管理": "y"}
        settings.KX_CLASSIFIER_MODEL = str(
            save_model(train([t for _, t in rows], [names[a] for a, _ in rows]), tmp_path / "m.kxm")
        )
        settings.KX_CLASSIFIER_PREFILL = 0.0
        html = agent.get(ASSIST, {"description": "家里宽带断网信号差"}).content.decode()
        assert f'data-kx-pick-category="{org.leaf.pk}"' in html and f'data-kx-prefill="{org.leaf.pk}"' in html
        settings.KX_CLASSIFIER_PREFILL = 1.01
        assert "data-kx-prefill" not in agent.get(ASSIST, {"description": "家里宽带断网信号差"}).content.decode()

    def test_the_classifier_suggestion_is_recorded_at_registration(self, org, agent, settings, tmp_path):
        rows = synthetic_rows(per_label=20)
        names = {"网络质量": "net-mobile-weak", "账单费用": "net", "服务态度": "x", "物业管理": "y"}
        settings.KX_CLASSIFIER_MODEL = str(
            save_model(train([t for _, t in rows], [names[a] for a, _ in rows]), tmp_path / "m.kxm")
        )
        corrected = register(org.agent, description="家里宽带断网信号差", category_id=org.category.pk)
        note = corrected.grading["classifier"]
        assert (note["category_id"], note["label"], note["agreed"]) == (org.leaf.pk, "net-mobile-weak", False)

    def test_login_is_required(self, client):
        assert client.get(ASSIST).status_code == 302


class TestGradingPanel:
    def test_the_detail_shows_the_rule_that_matched_and_why(self, rules, org, agent):
        c = register(org.agent, description="家里的光猫冒烟起火了")
        html = agent.get(f"/complaints/{c.pk}/").content.decode()
        assert 'data-rule="major-safety"' in html and "内容含「冒烟」" in html and "安全" in html

    def test_a_repeat_and_a_duplicate_are_shown_with_the_merge_offer(self, rules, org, login):
        first = register(org.agent, description=LONG)
        second = register(org.agent, description=LONG + "！")
        html = login(org.manager).get(f"/complaints/{second.pk}/").content.decode()
        assert 'id="repeat-flag"' in html and 'id="repeat-badge"' in html and first.number in html
        assert 'id="merge-offer"' in html and f"?into={first.number}" in html
        form = login(org.manager).get(f"/complaints/{second.pk}/actions/merge/?into={first.number}").content.decode()
        assert f'value="{first.number}"' in form

    def test_the_agent_overrides_and_the_timeline_shows_before_and_after(self, org, agent):
        c = register(org.agent)
        data = {
            "severity": "major",
            "intent": "grievance",
            "request_type": "complaint",
            "validity": "valid",
            "validity_reason": "",
            "flags": ["media"],
            "reason": "记者来电",
        }
        response = agent.post(f"/complaints/{c.pk}/grading/", data)
        assert response.status_code == 302
        c.refresh_from_db()
        assert (c.severity, c.flags) == ("major", ["media"])
        html = agent.get(f"/complaints/{c.pk}/").content.decode()
        assert "一般 → 重大" in html and "— → 媒体" in html and "记者来电" in html and 'id="grading-override"' in html

    def test_a_refused_override_shows_the_message_with_its_status_and_writes_nothing(self, org, agent, login):
        c = register(org.agent)
        response = agent.post(
            f"/complaints/{c.pk}/grading/", {"severity": "general", "validity": "invalid", "validity_reason": ""}
        )
        assert response.status_code == 400 and "必须选择无效原因" in response.content.decode()
        assert login(org.leader).post(f"/complaints/{c.pk}/grading/", {"severity": "major"}).status_code == 403
        assert login(org.outside_agent).post(f"/complaints/{c.pk}/grading/", {"severity": "major"}).status_code == 404
        assert not ComplaintEvent.objects.filter(action="regrade").exists()
        assert Complaint.objects.get(pk=c.pk).severity == "general"

    def test_roles_without_the_right_do_not_see_the_form(self, org, login):
        c = register(org.agent)
        assert 'id="regrade-form"' not in login(org.leader).get(f"/complaints/{c.pk}/").content.decode()
        assert 'id="regrade-form"' in login(org.agent).get(f"/complaints/{c.pk}/").content.decode()
