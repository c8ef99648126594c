"""The complaint detail (API and web page) shows each timed stage."""

import time_machine

from tests.api.conftest import ApiClient, issue_token
from tests.lifecycle_paths import complaint_in
from tests.sla.conftest import sh
from tests.sla.policies import make_policy

MON = sh(2025, 10, 13, 10, 0)


def test_the_detail_api_lists_the_stages(org):
    make_policy()
    with time_machine.travel(MON, tick=False):
        complaint = complaint_in(org, "dispatched")
    body = ApiClient(issue_token("agent")).get(f"/complaints/{complaint.pk}").json()
    stages = {s["stage"]: s for s in body["stages"]}
    assert set(stages) == {"acceptance", "closure", "reply", "department_return"}
    timed = stages["department_return"]
    assert timed["due_at"] == "2025-10-13T07:30:00Z"
    assert timed["completed_at"] is None and timed["breached"] is False and timed["escalation_level"] == 0
    assert {"started_at", "warn_at", "paused_seconds"} <= set(timed)
    assert stages["acceptance"]["completed_at"] is not None
    assert body["due_at"] == "2025-10-13T07:30:00Z"  # the existing field stays


def test_the_detail_page_shows_the_stages_with_remaining_time(org, client):
    make_policy()
    with time_machine.travel(MON, tick=False):
        complaint = complaint_in(org, "dispatched")
    client.force_login(org.agent)
    with time_machine.travel(sh(2025, 10, 13, 15, 0), tick=False):
        page = client.get(f"/complaints/{complaint.pk}/").content.decode()
    assert "部门回单" in page
    assert "sla-warn" in page  # 14:30 warning point passed, 15:30 deadline not yet
