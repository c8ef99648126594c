"""Under real concurrency (PostgreSQL, one connection per thread): one approval of a step wins,
monthly limits hold, and a complaint is never paid twice."""

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection, connections

from kuaixiang.errors import DomainError
from kuaixiang.remedies import services
from kuaixiang.remedies.models import AuthorityLedger, Remedy, RemedyEvent
from kuaixiang.rulepacks import rulepack_load
from kuaixiang.sla.models import Calendar
from tests.personas import build_org, register
from tests.remedies.conftest import AUTHORITY_YAML, request

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL: SQLite serialises writers"),
]


@pytest.fixture
def org_pg(transactional_db):
    # An earlier transactional test may have flushed the calendar that an SLA migration creates.
    Calendar.objects.get_or_create(code="cn", defaults={"name": "中国法定工作日历"})
    org = build_org()
    rulepack_load(AUTHORITY_YAML)
    return org


def all_at_once(calls):
    """Run each callable in its own thread (own connection), released together; return results or errors."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        try:
            barrier.wait(timeout=30)
            return call()
        except DomainError as exc:
            return exc
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def test_two_concurrent_approvals_of_one_step_one_wins(org_pg):
    today = services.local_today()
    # The lead's step may be decided by the lead or by the manager standing in for them.
    services.delegation_create(actor=org_pg.lead, delegate_id=org_pg.manager.pk, starts_on=today, ends_on=today)
    for _ in range(3):
        remedy = request(org_pg.agent, register(org_pg.agent), Decimal(300))
        results = all_at_once(
            [
                lambda r=remedy: services.remedy_decide(remedy_id=r.pk, actor=org_pg.lead, action="approve"),
                lambda r=remedy: services.remedy_decide(remedy_id=r.pk, actor=org_pg.manager, action="approve"),
            ]
        )
        errors = [r for r in results if isinstance(r, DomainError)]
        assert len(errors) == 1 and errors[0].code in ("step_already_decided", "remedy_not_pending"), results
        assert RemedyEvent.objects.filter(remedy=remedy, action="approve").count() == 1
        assert Remedy.objects.get(pk=remedy.pk).state == "approved"


def test_monthly_limit_holds_under_concurrent_requests(org_pg):
    # The agent may grant 2,000 a month alone; 30 simultaneous 100-yuan requests on 30 complaints.
    complaints = [register(org_pg.agent) for _ in range(30)]
    results = all_at_once([lambda c=c: request(org_pg.agent, c, Decimal(100)) for c in complaints])
    assert not [r for r in results if isinstance(r, Exception)], results
    approved = [r for r in results if r.state == "approved"]
    assert len(approved) == 20
    assert sum(r.state == "pending" for r in results) == 10
    assert AuthorityLedger.objects.get(user=org_pg.agent).used == Decimal(2000)


def test_concurrent_requests_on_one_complaint_pay_it_once(org_pg):
    complaint = register(org_pg.agent)
    actors = [org_pg.agent, org_pg.lead, org_pg.manager, org_pg.agent, org_pg.lead, org_pg.manager]
    results = all_at_once([lambda a=a: request(a, complaint, Decimal(50)) for a in actors])
    created = [r for r in results if isinstance(r, Remedy)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(created) == 1
    assert {e.code for e in refused} == {"already_requested"}
    assert Remedy.objects.filter(complaint=complaint).count() == 1


def test_concurrent_executions_pay_once(org_pg):
    remedy = request(org_pg.agent, register(org_pg.agent), Decimal(80))
    results = all_at_once(
        [lambda a=a: services.remedy_execute(remedy_id=remedy.pk, actor=a) for a in (org_pg.agent, org_pg.manager) * 3]
    )
    assert sum(isinstance(r, Remedy) for r in results) == 1
    assert RemedyEvent.objects.filter(remedy=remedy, action="execute").count() == 1
