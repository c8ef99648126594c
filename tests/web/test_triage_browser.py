"""In Chromium: the registration assistant shows similar complaints and pre-fills the category;
the detail page shows the matched rule and takes an override. Screenshots in /tmp/kx/shots/."""

import os
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from kuaixiang.complaints.models import Complaint
from kuaixiang.rulepacks import rulepack_load
from kuaixiang.triage.classifier import save_model, train
from tests.personas import build_org, register
from tests.triage.test_classifier import synthetic_rows
from tests.web.test_browser import CHROMIUM, log_in, page  # noqa: F401  (the page fixture)

SHOTS = Path(os.environ.get("KX_TRIAGE_SHOTS_DIR", "/tmp/kx/shots"))  # noqa: S108  (screenshots for people)
GRADING = Path(django_settings.BASE_DIR) / "rulepacks" / "telecom" / "grading.yaml"
TEXT = "我家小区的宽带从上周五开始就一直断网，信号很差，打了三次客服电话都说会派人上门，但到现在也没有人来处理"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"Chromium not installed at {CHROMIUM}"),
]


def shot(page, name: str) -> None:  # noqa: F811
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"triage-{name}.png"), full_page=True)


def test_assistant_then_grading_panel_and_override(page, transactional_db, settings, tmp_path):  # noqa: F811
    org = build_org()
    rulepack_load(GRADING)
    rows = synthetic_rows(per_label=20)
    names = {"网络质量": "net-mobile-weak", "账单费用": "net", "服务态度": "x", "物业管理": "y"}
    model = train([t for _, t in rows], [names[label] for label, _ in rows])
    settings.KX_CLASSIFIER_MODEL = str(save_model(model, tmp_path / "m.kxm"))
    settings.KX_CLASSIFIER_PREFILL = 0.3
    earlier = register(org.agent, description=TEXT, category_id=org.leaf.pk)

    log_in(page, "agent")
    page.goto("/complaints/new/")
    page.select_option("#id_channel", "phone")
    page.fill("#id_complainant_phone", "13812345678")
    page.fill("#id_description", TEXT + "！")
    page.wait_for_selector(f"#similar-complaints [data-similar='{earlier.pk}']")
    page.wait_for_selector("#category-suggestions [data-kx-pick-category]")
    page.wait_for_function(f"document.querySelector('#id_category_id').value === '{org.leaf.pk}'")
    shot(page, "1-assistant")

    page.click("#submit-complaint")
    page.wait_for_url("**/complaints/*/")
    complaint = Complaint.objects.exclude(pk=earlier.pk).get()
    assert (complaint.repeat_of_id, complaint.severity, complaint.category_id) == (earlier.pk, "important", org.leaf.pk)
    assert page.locator("#repeat-flag").is_visible() and page.locator("[data-rule='important-repeat']").is_visible()
    shot(page, "2-graded")

    page.click("#regrade-toggle")
    page.wait_for_selector("#regrade-form.show")
    page.select_option("#regrade-form #id_severity", "major")
    page.check("#regrade-form input[name=flags][value=media]")
    page.fill("#regrade-form #id_reason", "投诉人称已联系记者")
    page.click("#regrade-submit")
    page.wait_for_url(f"**/complaints/{complaint.pk}/")
    assert "重要 → 重大" in page.locator("#timeline").inner_text()
    shot(page, "3-regraded")
    complaint.refresh_from_db()
    assert (complaint.severity, complaint.flags) == ("major", ["media"])
