"""The incident page in Chromium: the ECharts chart draws, the countdown ticks, a form works."""

from pathlib import Path

import pytest

from kuaixiang.crisis import scripts, services
from kuaixiang.rulepacks import rulepack_load
from tests.personas import build_org, register
from tests.web.test_browser import CHROMIUM, log_in, page, shot  # noqa: F401  (fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"Chromium not installed at {CHROMIUM}"),
]


def test_the_incident_page_draws_its_chart_and_counts_down(page, transactional_db):  # noqa: F811
    org = build_org()
    rulepack_load(Path(__file__).resolve().parents[2] / "rulepacks" / "telecom" / "playbooks.yaml")
    incident = services.incident_open(
        playbook="telecom_crisis", title="全省宽带断网", actor=org.hq_manager, match_category=org.category
    )
    for _ in range(3):
        register(org.agent, category_id=org.leaf.pk)
    scripts.script_draft(incident_id=incident.pk, actor=org.pr, content="光缆被挖断，正在抢修。")

    log_in(page, "leader")
    page.goto(f"/crisis/{incident.pk}/")
    page.wait_for_selector("#hourly-chart canvas")
    assert page.locator(".kx-countdown").first.inner_text().startswith("剩余")
    assert page.locator("#hourly tbody tr").first.locator("td").nth(1).inner_text() == "3"
    page.click("#script-versions button:has-text('审批')")
    page.wait_for_selector("#script-versions tr[data-status='approved']")
    page.click("#script-versions button:has-text('发布')")
    page.wait_for_selector("#current-script")
    assert "光缆被挖断" in page.locator("#current-script").inner_text()
    shot(page, "crisis-incident")
