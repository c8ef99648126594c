"""End to end in Debian's Chromium: an agent registers and dispatches, a handler takes the complaint.

Screenshots of each step land in /tmp/kx-shots/ for a human to look at.
"""

import os
from pathlib import Path

import pytest

from kuaixiang.complaints.models import Complaint
from tests.personas import PASSWORD, build_org

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(os.environ.get("KX_SHOTS_DIR", "/tmp/kx-shots"))  # noqa: S108  (screenshots for people to look at)
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"Chromium not installed at {CHROMIUM} (apt install chromium)"),
]


@pytest.fixture
def page(live_server, monkeypatch):
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    # The sync API runs an event loop in this thread; the test's own ORM calls are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(
            base_url=live_server.url,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            viewport={"width": 1366, "height": 900},
        )
        context.set_default_timeout(15_000)
        page = context.new_page()
        yield page
        context.close()
        browser.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"browser-{name}.png"), full_page=True)


def log_in(page, username: str) -> None:
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url("**/")


def test_agent_registers_and_dispatches_then_handler_takes(page, transactional_db, tmp_path):
    org = build_org()
    evidence = tmp_path / "账单截图.png"
    evidence.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 64)

    log_in(page, "agent")
    assert page.locator("h1").first.inner_text() == "工作台"
    shot(page, "1-workbench")

    page.click("text=登记投诉 >> nth=0")
    page.wait_for_url("**/complaints/new/")
    page.select_option("#id_channel", "hotline_12345")
    page.fill("#id_external_id", "12345-E2E-1")
    page.fill("#id_complainant_name", "赵女士")
    page.fill("#id_complainant_phone", "139-1234-5678")
    page.select_option("#id_category_id", str(org.leaf.pk))
    page.fill("#id_subject", "望京营业厅")
    page.fill("#id_description", "家里和小区里手机信号都很弱，打电话经常掉线")
    page.fill("#id_appeal", "要求尽快修复信号")
    page.fill("#id_amount_claimed", "50")
    page.locator("input[name=extra_key]").first.fill("小区")
    page.locator("input[name=extra_value]").first.fill("望京花园")
    page.set_input_files("#id_attachments", str(evidence))
    shot(page, "2-form")
    page.click("#submit-complaint")
    page.wait_for_url("**/complaints/*/")

    complaint = Complaint.objects.get(external_id="12345-E2E-1")
    assert page.locator("#complaint-number").inner_text() == complaint.number
    assert page.locator("#complaint-status").get_attribute("data-status") == "registered"
    assert "账单截图.png" in page.locator("#attachments").inner_text()
    assert complaint.extra == {"小区": "望京花园"} and complaint.complainant_phone == "13912345678"
    shot(page, "3-registered")

    page.click("#actions [data-action=accept]")
    page.wait_for_selector("#complaint-status[data-status=accepted]")
    page.click("#actions [data-action=dispatch]")
    page.wait_for_selector("#modal-dispatch.show")
    page.select_option("#id_dispatch_department_id", str(org.network.pk))
    shot(page, "4-dispatch-modal")
    page.click("#modal-dispatch [data-submit=dispatch]")
    page.wait_for_selector("#complaint-status[data-status=dispatched]")
    assert page.locator("#handling-department").inner_text() == "甲网络部"
    shot(page, "5-dispatched")

    page.click("#kx-user")
    page.click("text=退出登录")
    page.wait_for_url("**/login/")

    log_in(page, "handler")
    assert page.locator(".kx-bell-count").inner_text().startswith("1")
    page.click(f"#team-queue >> text={complaint.number}")
    page.wait_for_url(f"**/complaints/{complaint.pk}/")
    assert page.locator("#actions [data-action]").evaluate_all("els => els.map(e => e.dataset.action)") == [
        "send_back",
        "take",
        "suspend",
    ]
    page.click("#actions [data-action=take]")
    page.wait_for_selector("#complaint-status[data-status=processing]")
    assert page.locator("#assignee").inner_text() == "handler"
    shot(page, "6-taken")

    complaint.refresh_from_db()
    assert complaint.status == "processing" and complaint.assignee_id == org.handler.pk
    assert list(complaint.events.values_list("action", flat=True)) == [
        "register",
        "attach",
        "accept",
        "dispatch",
        "take",
    ]
    assert os.path.exists(SHOTS / "browser-6-taken.png")
