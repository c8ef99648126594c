"""Count rules under real concurrency (PostgreSQL): no lost count, one warning per window."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from kuaixiang.alerts.models import Warning, WarningCounter, WarningEvent
from tests.alerts.conftest import make_rule
from tests.api.conftest import ApiClient, issue_token
from tests.personas import build_org

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL: SQLite serialises writers"),
]
CALLERS = 30


def test_thirty_concurrent_intakes_count_every_complaint_and_raise_one_warning(transactional_db):
    org = build_org()
    make_rule(levels=[{"level": 1, "at": 10, "notify": []}, {"level": 3, "at": 25, "notify": []}])
    token = issue_token("agent")
    import threading

    barrier = threading.Barrier(CALLERS)

    def create(i):
        try:
            client = ApiClient(token)
            barrier.wait(timeout=30)
            body = {
                "channel": "phone",
                "complainant_phone": "13812345678",
                "description": f"并发{i}号",
                "category_id": org.leaf.pk,
            }
            return client.post("/complaints", body).status_code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=CALLERS) as pool:
        assert set(pool.map(create, range(CALLERS))) == {201}
    assert WarningCounter.objects.get().count == CALLERS
    warning = Warning.objects.get()
    assert (warning.level, warning.count) == (3, CALLERS)
    kinds = list(
        WarningEvent.objects.filter(warning=warning, kind__in=["raised", "rose"])
        .order_by("id")
        .values_list("kind", "level")
    )
    assert kinds == [("raised", 1), ("rose", 3)]
