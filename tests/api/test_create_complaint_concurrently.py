"""Creation under real concurrency (PostgreSQL): one external id makes one complaint, numbers never repeat."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from kuaixiang.complaints.models import Complaint, ComplaintEvent
from tests.api.conftest import ApiClient, issue_token
from tests.personas import build_org

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL: SQLite serialises writers"),
]
CALLERS = 50


@pytest.fixture
def token(transactional_db):
    build_org()
    return issue_token("agent")


def create_all_at_once(token: str, bodies: list[dict], headers: dict | None = None) -> list:
    """POST each body from its own thread (own DB connection), all released by one barrier."""
    barrier = threading.Barrier(len(bodies))

    def create(body):
        try:
            client = ApiClient(token)
            barrier.wait(timeout=30)
            response = client.post("/complaints", body, headers=headers)
            return response.status_code, response.json()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(create, bodies))


def body(**fields):
    return {"channel": "hotline_12345", "complainant_phone": "13812345678", "description": "并发登记", **fields}


def test_fifty_concurrent_creates_with_one_external_id_make_one_complaint(token):
    results = create_all_at_once(token, [body(external_id="GOV-2026-0001")] * CALLERS)
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * (CALLERS - 1) + [201], results
    assert len({payload["id"] for _, payload in results}) == 1
    assert len({payload["number"] for _, payload in results}) == 1
    assert Complaint.objects.count() == 1
    assert ComplaintEvent.objects.count() == 1


def test_fifty_concurrent_creates_with_one_idempotency_key_make_one_complaint(token):
    results = create_all_at_once(token, [body()] * CALLERS, headers={"Idempotency-Key": "retry-storm"})
    assert sorted(status for status, _ in results) == [200] * (CALLERS - 1) + [201], results
    assert len({payload["id"] for _, payload in results}) == 1
    assert Complaint.objects.count() == 1


def test_fifty_concurrent_creates_with_different_ids_get_fifty_distinct_numbers(token):
    results = create_all_at_once(token, [body(external_id=f"GOV-{i}") for i in range(CALLERS)])
    assert [status for status, _ in results] == [201] * CALLERS, results
    numbers = sorted(payload["number"] for _, payload in results)
    assert len(set(numbers)) == CALLERS
    # One counter per day hands out consecutive numbers: no gaps, no repeats.
    sequence = [int(n[-6:]) for n in numbers]
    assert sequence == list(range(sequence[0], sequence[0] + CALLERS))
    assert Complaint.objects.count() == CALLERS


def test_concurrent_bulk_batches_sharing_external_ids_make_each_complaint_once(token):
    batches = [{"items": [body(external_id=f"SHARED-{i}") for i in range(20)]} for _ in range(8)]
    barrier = threading.Barrier(len(batches))

    def send(batch):
        try:
            client = ApiClient(token)
            barrier.wait(timeout=30)
            return client.post("/complaints/bulk", batch).json()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(batches)) as pool:
        answers = list(pool.map(send, batches))
    assert sum(a["created"] for a in answers) == 20
    assert all(a["failed"] == 0 for a in answers)
    ids_per_item = [{a["results"][i]["id"] for a in answers} for i in range(20)]
    assert all(len(ids) == 1 for ids in ids_per_item)
    assert Complaint.objects.count() == 20
