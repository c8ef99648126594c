"""Child process: list and search latency in-process, through the real selectors, as personas.

Each sample is one page as the API builds it: a fresh copy of the persona's user (so the
data-scope lookups run as in a real request), ``selectors.complaints_page`` and
``present.list_item`` for every row. Query counts come from ``CaptureQueriesContext`` at two
page sizes (10 and 50 rows): equal counts mean no per-row (N+1) queries. On PostgreSQL the
page query's ``EXPLAIN (ANALYZE, BUFFERS)`` is saved in the JSON results.
"""

import argparse
import copy
import time
from dataclasses import dataclass, field

import django

LIMIT = 50
SLOW_BUDGET_S = 12.0  # a scenario stops sampling after this long (keeps SQLite full scans bounded)


@dataclass
class Scenario:
    key: str
    label: str
    persona: str
    filters: dict = field(default_factory=dict)
    page: int = 1  # >1: follow next_cursor from page 1 first, time only that page
    target_ms: float | None = None


def scenarios(samples: dict) -> list[Scenario]:
    from benchmarks.texts import ABSENT_KEYWORD, COMMON_KEYWORD, RARE_KEYWORD
    from kuaixiang.complaints.selectors import OPEN_STATES

    queue = {"department_id": samples["handler_department"], "status": OPEN_STATES}
    return [
        Scenario("queue", "handler: own department's open queue, page 1", "handler", queue, target_ms=100),
        Scenario("handler_all", "handler: everything in scope, page 1", "handler"),
        Scenario("hq_all", "HQ manager: whole list, page 1", "hq_manager"),
        Scenario("hq_page100", "HQ manager: whole list, page 100 (cursor)", "hq_manager", page=100),
        Scenario("branch_all", "branch manager: branch list, page 1", "branch_manager"),
        Scenario("branch_page100", "branch manager: page 100 (cursor)", "branch_manager", page=100),
        Scenario("hq_status", "HQ manager: status = returned", "hq_manager", {"status": ["returned"]}),
        Scenario("branch_status", "branch manager: status = dispatched", "branch_manager", {"status": ["dispatched"]}),
        Scenario(
            "kw_common", f"HQ manager: keyword 「{COMMON_KEYWORD}」 (common)", "hq_manager", {"q": COMMON_KEYWORD}
        ),
        Scenario("kw_rare", f"HQ manager: keyword 「{RARE_KEYWORD}」 (rare)", "hq_manager", {"q": RARE_KEYWORD}),
        Scenario(
            "kw_rare_branch", f"branch manager: keyword 「{RARE_KEYWORD}」", "branch_manager", {"q": RARE_KEYWORD}
        ),
        Scenario(
            "kw_absent", f"HQ manager: keyword 「{ABSENT_KEYWORD}」 (no hit)", "hq_manager", {"q": ABSENT_KEYWORD}
        ),
        Scenario("number", "HQ manager: search by number", "hq_manager", {"q": samples["number"]}),
        Scenario("phone", "HQ manager: search by phone", "hq_manager", {"q": samples["phone"]}),
        Scenario("handler_phone", "handler: search by phone", "handler", {"q": samples["handler_phone"]}),
    ]


def _fresh(user):
    """A copy of ``user`` without the per-request caches (scope, staff)."""
    clone = copy.copy(user)
    for attr in ("_kx_scope", "_kx_staff"):
        clone.__dict__.pop(attr, None)
    return clone


def run(repeat: int, log) -> dict:
    from django.contrib.auth import get_user_model
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from benchmarks.common import percentile
    from kuaixiang.complaints import present, selectors, services
    from kuaixiang.complaints.models import Complaint

    users = {u.username: u for u in get_user_model().objects.filter(username__in=["hq_manager", "branch_manager"])}
    users["handler"] = get_user_model().objects.get(username="handler_a-network_0")
    handler_department = users["handler"].staff.department_id
    middle = Complaint.objects.count() // 2
    probe = Complaint.objects.order_by("id").values("number", "complainant_phone")[middle : middle + 1].get()
    handler_row = Complaint.objects.filter(department_id=handler_department).exclude(complainant_phone="").order_by(
        "-id"
    ).values("complainant_phone")[1000:1001].first() or {"complainant_phone": probe["complainant_phone"]}
    samples = {
        "handler_department": handler_department,
        "number": probe["number"],
        "phone": probe["complainant_phone"],
        "handler_phone": handler_row["complainant_phone"],
    }

    def page_of(scenario: Scenario, cursor: str | None, limit: int = LIMIT):
        user = _fresh(users[scenario.persona])
        filters = selectors.ComplaintFilters(**scenario.filters)
        page = selectors.complaints_page(user, filters, cursor=cursor, limit=limit)
        role = services.role_of(user)
        return page, [present.list_item(row, role) for row in page.items]

    results = {}
    for scenario in scenarios(samples):
        cursor = None
        for _ in range(scenario.page - 1):
            page, _items = page_of(scenario, cursor)
            cursor = page.next_cursor
            if cursor is None:
                break
        with CaptureQueriesContext(connection) as small:
            page_of(scenario, cursor, limit=10)
        with CaptureQueriesContext(connection) as full:
            page, items = page_of(scenario, cursor)
        small_count, captured = len(small.captured_queries), list(full.captured_queries)
        reset_queries()  # the log is a bounded deque: keep it short between scenarios
        page_sql = max(captured, key=lambda q: len(q["sql"]))["sql"]
        plan = _explain(connection, page_sql)
        page_of(scenario, cursor)  # warm
        timings = []
        started = time.perf_counter()
        wanted = max(3, 10 * repeat)
        while len(timings) < wanted and (len(timings) < 3 or time.perf_counter() - started < SLOW_BUDGET_S):
            t0 = time.perf_counter()
            page_of(scenario, cursor)
            timings.append((time.perf_counter() - t0) * 1000)
        result = {
            "label": scenario.label,
            "persona": scenario.persona,
            "filters": {k: v for k, v in scenario.filters.items()},
            "page": scenario.page,
            "rows": len(items),
            "samples": len(timings),
            "p50_ms": percentile(timings, 50),
            "p99_ms": percentile(timings, 99),
            "queries": len(captured),
            "queries_at_10_rows": small_count,
            "no_n_plus_1": len(captured) == small_count,
            "target_ms": scenario.target_ms,
            "plan": plan,
            "page_sql": page_sql,
        }
        results[scenario.key] = result
        log(
            f"{scenario.label}: p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
            f"{result['rows']} rows, {result['queries']} queries ({len(timings)} samples)"
        )
    results["api_queue"] = _api_queue(users["handler"], handler_department, repeat, log)
    return {"scenarios": results, "samples": samples}


def _api_queue(handler, department_id: int, repeat: int, log) -> dict:
    """The same queue through the whole API request in-process (auth, scope, page, JSON)."""
    from django.db import connection
    from django.test import Client

    from benchmarks.common import percentile
    from benchmarks.fixtures import api_token
    from kuaixiang.complaints.selectors import OPEN_STATES

    client = Client()
    headers = {"Authorization": f"Bearer {api_token(handler)}"}
    query = "&".join([f"department_id={department_id}"] + [f"status={s}" for s in OPEN_STATES])

    def get(limit: int):
        response = client.get(f"/api/v1/complaints?{query}&limit={limit}", headers=headers)
        assert response.status_code == 200, response.content[:300]
        return response

    get(LIMIT)
    # The request_started signal clears connection.queries, so count with an execute wrapper.
    small, full = [], []
    with connection.execute_wrapper(lambda execute, sql, *rest: (small.append(sql), execute(sql, *rest))[1]):
        get(10)
    with connection.execute_wrapper(lambda execute, sql, *rest: (full.append(sql), execute(sql, *rest))[1]):
        rows = len(get(LIMIT).json()["items"])
    timings = []
    for _ in range(max(3, 10 * repeat)):
        t0 = time.perf_counter()
        get(LIMIT)
        timings.append((time.perf_counter() - t0) * 1000)
    result = {
        "label": "API GET /api/v1/complaints (handler's queue, in-process)",
        "persona": "handler",
        "rows": rows,
        "samples": len(timings),
        "p50_ms": percentile(timings, 50),
        "p99_ms": percentile(timings, 99),
        "queries": len(full),
        "queries_at_10_rows": len(small),
        "no_n_plus_1": len(full) == len(small),
        "target_ms": None,
        "sql": [sql[:200] for sql in full],
    }
    log(f"{result['label']}: p50 {result['p50_ms']:.1f} ms, {result['queries']} queries")
    return result


def _explain(connection, sql: str) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql)
        return "\n".join(" | ".join(str(c) for c in row) for row in cursor.fetchall())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json-out", required=True)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    django.setup()
    from benchmarks.common import log, write_json

    write_json(args.json_out, run(args.repeat, lambda m: log(f"list/{args.label}: {m}")))


if __name__ == "__main__":
    main()
