"""Workers racing on PostgreSQL: each escalation level fires once; a warning opens one incident."""

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection, connections

from kuaixiang import clock
from kuaixiang.crisis import services, sweeps
from kuaixiang.crisis.models import Incident, IncidentEvent
from kuaixiang.rulepacks import rulepack_load
from kuaixiang.sla.models import Calendar
from tests.personas import build_org

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL: SQLite serialises writers"),
]


def _race(workers: int, work) -> list[Exception]:
    barrier, errors = threading.Barrier(workers), []

    def run():
        try:
            barrier.wait(timeout=30)
            work()
        except Exception as exc:  # noqa: BLE001 — reported by the caller's assertion
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


@pytest.fixture
def world(transactional_db):
    Calendar.objects.get_or_create(code="cn", defaults={"name": "中国法定工作日历"})
    org = build_org()
    rulepack_load(Path(__file__).resolve().parents[2] / "rulepacks" / "telecom" / "playbooks.yaml")
    return org


def test_racing_sweeps_fire_each_task_level_once(world):
    incident = services.incident_open(playbook="telecom_crisis", title="并发", actor=world.hq_manager)
    late = clock.now() + timedelta(hours=2, minutes=1)
    assert not _race(4, lambda: sweeps.tasks_sweep(now=late))
    assert IncidentEvent.objects.filter(incident=incident, kind="escalate").count() == 3  # fix, script, branches
    later = late + timedelta(hours=1)
    assert not _race(4, lambda: sweeps.tasks_sweep(now=later))
    assert IncidentEvent.objects.filter(incident=incident, kind="escalate").count() == 6


def test_racing_workers_open_one_incident_per_warning(world):
    facts = services.WarningFacts(
        warning_id=4242,
        level=3,
        rule_code="cat5-day",
        category_id=world.leaf.pk,
        scope_label="网络质量/移动网络/信号弱",
        sandbox=False,
        flags=(),
        complaint_ids=(),
        unit_id=None,
        raised_at=clock.now(),
    )
    assert not _race(4, lambda: services.incidents_from_warning(facts=facts))
    assert Incident.objects.filter(warning_id=4242).count() == 1
