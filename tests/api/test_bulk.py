"""POST /api/v1/complaints/bulk: up to 1,000 items, one result per item, bad items not written."""

import pytest

from kuaixiang.complaints.models import Complaint, ComplaintEvent
from tests.api.conftest import assert_error
from tests.personas import register


def item(**fields):
    return {"channel": "hotline_12345", "complainant_phone": "13812345678", "description": "投诉内容", **fields}


@pytest.fixture
def agent(api_as):
    return api_as("agent")


def test_each_item_gets_its_own_result(org, agent):
    existing = register(org.agent, channel="hotline_12345", external_id="GOV-OLD")
    items = [
        item(external_id="GOV-1"),  # new
        item(complainant_phone="12345"),  # invalid phone
        item(external_id="GOV-1", description="同批重复"),  # duplicate of item 0 within the batch
        item(external_id="GOV-OLD"),  # already in the database
        item(category_id=999_999),  # unknown category
        item(external_id="GOV-1", channel="letter"),  # same id, other channel: new
        {"channel": "phone"},  # missing description and phone
        item(),  # new, no external id
    ]
    response = agent.post("/complaints/bulk", {"items": items})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["created"], body["existing"], body["failed"]) == (3, 2, 3)
    results = body["results"]
    assert [r["index"] for r in results] == list(range(len(items)))
    assert [r["status"] for r in results] == [201, 400, 200, 200, 400, 201, 400, 201]
    assert results[2]["id"] == results[0]["id"]
    assert (results[3]["id"], results[3]["number"]) == (existing.pk, existing.number)
    assert results[1]["error"]["code"] == "validation_error"
    assert results[1]["error"]["details"]["fields"][0]["code"] == "invalid_phone"
    assert results[4]["error"] == {
        "code": "unknown_category",
        "message": "投诉分类不存在或已停用",
        "details": {"category_id": 999_999},
    }
    assert [f["field"] for f in results[6]["error"]["details"]["fields"]] == ["description"]
    for failed in (results[1], results[4], results[6]):
        assert failed["id"] is None and failed["number"] is None
    assert Complaint.objects.count() == 1 + 3
    assert ComplaintEvent.objects.filter(action="register").count() == 1 + 3
    new_numbers = [r["number"] for r in results if r["status"] == 201]
    assert len(set(new_numbers)) == 3


def test_a_thousand_items_are_accepted(org, agent):
    response = agent.post("/complaints/bulk", {"items": [item(external_id=f"B-{i}") for i in range(1000)]})
    assert response.status_code == 200
    assert response.json()["created"] == 1000
    assert Complaint.objects.count() == 1000
    assert Complaint.objects.values("number").distinct().count() == 1000


def test_more_than_a_thousand_items_are_refused_whole(org, agent):
    error = assert_error(agent.post("/complaints/bulk", {"items": [item()] * 1001}), 400, "bulk_too_large")
    assert error["details"] == {"limit": 1000}
    assert not Complaint.objects.exists()


def test_an_empty_batch_is_refused(org, agent):
    assert_error(agent.post("/complaints/bulk", {"items": []}), 400, "bulk_empty")


@pytest.mark.parametrize(
    "body",
    [{}, {"items": "nope"}, {"items": [1, 2]}, {"items": None}],
)
def test_a_batch_that_is_not_a_list_of_objects_is_refused_whole(org, agent, body):
    assert_error(agent.post("/complaints/bulk", body), 400, "validation_error")
    assert not Complaint.objects.exists()


def test_malformed_json_is_refused(org, agent):
    assert_error(agent.post("/complaints/bulk", raw='{"items": [{"channel": '), 400, "malformed_request")


def test_a_repeated_batch_creates_nothing_new(org, agent):
    batch = {"items": [item(external_id=f"R-{i}") for i in range(5)]}
    first = agent.post("/complaints/bulk", batch).json()
    again = agent.post("/complaints/bulk", batch).json()
    assert (again["created"], again["existing"]) == (0, 5)
    assert [r["id"] for r in again["results"]] == [r["id"] for r in first["results"]]
    assert Complaint.objects.count() == 5
