"""Two drills started at the same moment: the sandbox takes one, the other gets 409 (PostgreSQL)."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import time_machine
from django.db import connection, connections

from kuaixiang.drills.models import Drill
from kuaixiang.drills.services import drill_start
from kuaixiang.errors import Conflict
from tests.drills.conftest import SMALL, START

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL: SQLite serialises writers"),
]


def test_only_one_of_two_simultaneous_starts_wins(transactional_db, drill_org):
    barrier = threading.Barrier(2)

    def go(playbook):
        try:
            barrier.wait(timeout=30)
            drill_start(playbook=playbook, scenario=SMALL, actor=drill_org.manager)
            return "started"
        except Conflict as exc:
            return exc.code
        finally:
            connections.close_all()

    with time_machine.travel(START, tick=False), ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = sorted(pool.map(go, ["telecom_crisis", "property_major"]))
    assert outcomes == ["drill_running", "started"]
    assert Drill.objects.filter(status=Drill.Status.RUNNING).count() == 1
