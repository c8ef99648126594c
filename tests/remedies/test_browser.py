"""In Debian's Chromium: an agent asks for 6,000 yuan, the chain's first approver approves from the inbox;
every remedies page is rendered and saved under $KX_SHOTS_DIR (default /tmp/kx/shots) for people to look at."""

import os
from decimal import Decimal
from pathlib import Path

import pytest

from kuaixiang.remedies import accountability, capa, services
from kuaixiang.remedies.models import Remedy
from kuaixiang.rulepacks import rulepack_load
from kuaixiang.sla.models import Calendar
from tests.personas import PASSWORD, build_org, register
from tests.remedies.conftest import AUTHORITY_YAML, request

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(os.environ.get("KX_SHOTS_DIR", "/tmp/kx/shots"))  # noqa: S108  (screenshots for people to look at)
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run", "--disable-sync"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"Chromium not installed at {CHROMIUM}"),
]


@pytest.fixture
def browser(live_server, monkeypatch):
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)

        def context():
            ctx = chromium.new_context(
                base_url=live_server.url,
                locale="zh-CN",
                timezone_id="Asia/Shanghai",
                viewport={"width": 1366, "height": 900},
            )
            ctx.set_default_timeout(15_000)
            return ctx.new_page()

        yield context
        chromium.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"remedies-{name}.png"), full_page=True)


def log_in(page, username: str) -> None:
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_selector(".kx-navbar")
    page.wait_for_url("**/")


def test_request_approve_and_every_page(browser, transactional_db):
    Calendar.objects.get_or_create(code="cn", defaults={"name": "中国法定工作日历"})
    org = build_org()
    rulepack_load(AUTHORITY_YAML)
    complaint = register(org.agent, description="宽带断网三天，要求赔偿", appeal="退还当月月租并补偿")
    paid = request(org.agent, register(org.agent), Decimal(80))
    services.remedy_execute(remedy_id=paid.pk, actor=org.agent, note="退款流水 R20261122001")

    agent = browser()
    log_in(agent, "agent")
    agent.goto(f"/complaints/{complaint.pk}/")
    shot(agent, "complaint-before")
    agent.click("#remedy-new")
    agent.select_option("#type", "compensation")
    agent.fill("#amount", "6000")
    agent.fill("#justification", "断网三天，影响经营，按公司责任补偿")
    shot(agent, "form")
    agent.click("#remedy-submit")
    agent.wait_for_selector("#chain")
    remedy = Remedy.objects.get(complaint=complaint)
    assert agent.get_attribute("#remedy-state", "data-state") == "pending"
    shot(agent, "detail-pending")
    agent.goto(f"/complaints/{complaint.pk}/")
    agent.wait_for_selector(f'[data-remedy="{remedy.pk}"]')
    shot(agent, "complaint-panel")

    manager = browser()
    log_in(manager, "manager")
    manager.goto("/remedies/")
    manager.wait_for_selector(f'[data-remedy="{remedy.pk}"]')
    shot(manager, "inbox")
    manager.goto(f"/remedies/{remedy.pk}/")
    manager.fill("#decide textarea[name=comment]", "同意，报部门负责人")
    manager.click('#decide [data-action="approve"]')
    manager.wait_for_selector('[data-step="2"][data-state="active"]')
    shot(manager, "detail-after-approve")
    for path, name in (
        ("/remedies/authority/", "matrix"),
        ("/remedies/report/", "report"),
        ("/remedies/delegations/", "delegations"),
    ):
        manager.goto(path)
        shot(manager, name)

    eightd = capa.eightd_open(actor=org.manager, complaint_ids=[complaint.pk, paid.complaint_id], title="光猫批次掉线")
    capa.eightd_update(
        actor=org.manager,
        eightd_id=eightd.pk,
        data={
            "d2_problem": "同批次光猫频繁掉线",
            "d4_root_cause": "固件缺陷",
            "stock_checked": 1200,
            "stock_isolated": 35,
        },
    )
    capa.capa_action_add(
        actor=org.manager, eightd_id=eightd.pk, kind="temporary", description="隔离库存", owner_id=org.head.pk
    )
    capa.capa_action_add(
        actor=org.manager, eightd_id=eightd.pk, kind="corrective", description="升级固件", owner_id=org.head.pk
    )
    manager.goto("/remedies/8d/")
    shot(manager, "8d-list")
    manager.goto(f"/remedies/8d/new/?complaint={complaint.pk}")
    shot(manager, "8d-new")
    manager.goto(f"/remedies/8d/{eightd.pk}/")
    manager.wait_for_selector("#capa-actions [data-kind=corrective]")
    shot(manager, "8d-detail")

    row = accountability.accountability_record(
        actor=org.manager, person_id=org.agent.pk, finding="投诉单 2 日内未传递", fine=100, zero_performance=True
    )
    accountability.accountability_approve(actor=org.leader, accountability_id=row.pk)
    manager.goto("/remedies/accountability/")
    manager.wait_for_selector("#zeroed")
    shot(manager, "accountability")
