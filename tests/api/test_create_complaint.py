"""POST /api/v1/complaints: 201 with id/number/status, idempotent repeats, and bad input refused whole."""

import re
from decimal import Decimal

import pytest

from kuaixiang.complaints.models import Complaint, ComplaintEvent, IdempotencyKey
from tests.api.conftest import assert_error

VALID = {"channel": "phone", "complainant_phone": "13812345678", "description": "手机没有信号"}


def nothing_written() -> bool:
    return not Complaint.objects.exists() and not ComplaintEvent.objects.exists()


@pytest.fixture
def agent(api_as):
    return api_as("agent")


def test_a_complaint_is_registered_with_201_and_a_readable_number(org, agent):
    response = agent.post(
        "/complaints",
        {
            **VALID,
            "external_id": "12345-20261122-0001",
            "complainant_name": "张三",
            "complainant_phone": "+86 138-1234-5678",
            "received_at": "2026-01-05T09:30:00+08:00",
            "place": "杭州市西湖区文三路",
            "subject": "文三路营业厅",
            "appeal": "尽快修复并赔偿",
            "amount_claimed": "199.00",
            "category_id": org.leaf.pk,
            "severity": "important",
            "extra": {"product": "5G 套餐", "batch": "B-17"},
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "number", "status"}
    assert re.fullmatch(r"TS\d{8}\d{6}", body["number"])
    assert body["status"] == "registered"
    c = Complaint.objects.get(pk=body["id"])
    assert (c.number, c.channel, c.complainant_phone, c.category, c.severity) == (
        body["number"],
        "phone",
        "13812345678",
        org.leaf,
        "important",
    )
    assert c.amount_claimed == Decimal("199.00")
    assert c.extra == {"product": "5G 套餐", "batch": "B-17"}
    assert c.received_at.isoformat() == "2026-01-05T01:30:00+00:00"
    assert (c.intake_department, c.registered_by) == (org.centre, org.agent)


def test_an_anonymous_complaint_needs_only_channel_and_description(agent):
    response = agent.post("/complaints", {"channel": "wechat", "anonymous": True, "description": "匿名反映"})
    assert response.status_code == 201, response.content


def test_a_repeat_with_the_same_channel_and_external_id_returns_200_and_the_same_complaint(agent, api_as):
    first = agent.post("/complaints", {**VALID, "external_id": "E-1"})
    again = agent.post("/complaints", {**VALID, "external_id": "E-1", "description": "第二次推送"})
    from_a_colleague = api_as("lead").post("/complaints", {**VALID, "external_id": "E-1"})
    assert first.status_code == 201
    assert again.status_code == from_a_colleague.status_code == 200
    assert again.json() == from_a_colleague.json() == first.json()
    assert Complaint.objects.count() == 1
    assert Complaint.objects.get().description == "手机没有信号"


def test_a_repeat_with_the_same_idempotency_key_returns_200_and_the_same_complaint(agent):
    headers = {"Idempotency-Key": "7f1c0a54-retry"}
    first = agent.post("/complaints", VALID, headers=headers)
    again = agent.post("/complaints", VALID, headers=headers)
    other_key = agent.post("/complaints", VALID, headers={"Idempotency-Key": "another"})
    assert (first.status_code, again.status_code, other_key.status_code) == (201, 200, 201)
    assert again.json() == first.json()
    assert other_key.json()["id"] != first.json()["id"]
    assert IdempotencyKey.objects.count() == 2


def test_an_overlong_idempotency_key_is_refused(agent):
    assert_error(
        agent.post("/complaints", VALID, headers={"Idempotency-Key": "k" * 201}), 400, "invalid_idempotency_key"
    )
    assert nothing_written()


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"complainant_phone": "13812345678", "description": "x"}, "channel", "field_required"),
        ({"channel": "phone", "complainant_phone": "13812345678"}, "description", "field_required"),
        ({"channel": "phone", "description": "x"}, "", "phone_required"),
        ({**VALID, "complainant_phone": "12345"}, "complainant_phone", "invalid_phone"),
        ({**VALID, "complainant_phone": "138-1234-567x"}, "complainant_phone", "invalid_phone"),
        ({**VALID, "description": "长" * 10_001}, "description", "text_too_long"),
        ({**VALID, "appeal": "长" * 10_001}, "appeal", "text_too_long"),
        ({**VALID, "channel": "carrier_pigeon"}, "channel", "invalid_choice"),
        ({**VALID, "received_at": "2099-01-01T00:00:00+08:00"}, "received_at", "received_in_future"),
        ({**VALID, "received_at": "next tuesday"}, "received_at", "not_a_datetime"),
        ({**VALID, "amount_claimed": "12.345"}, "amount_claimed", "too_many_decimals"),
        ({**VALID, "amount_claimed": "abc"}, "amount_claimed", "not_a_number"),
        ({**VALID, "category_id": "网络"}, "category_id", "not_an_integer"),
        ({**VALID, "category_id": 2**64}, "category_id", "too_large"),
        ({**VALID, "extra": {"note": "长" * 10_001}}, "extra", "extra_too_large"),
        ({**VALID, "extra": []}, "extra", "not_an_object"),
        ({**VALID, "description": "空\x00字符"}, "", "nul_character"),
        ({**VALID, "owner": "me"}, "owner", "unknown_field"),
    ],
)
def test_bad_input_gets_400_naming_the_field_and_writes_nothing(agent, body, field, code):
    error = assert_error(agent.post("/complaints", body), 400, "validation_error")
    assert {"field": field, "code": code} in [
        {"field": f["field"], "code": f["code"]} for f in error["details"]["fields"]
    ]
    assert nothing_written()


def test_nan_in_the_extra_fields_is_refused_not_a_server_error(agent):
    raw = '{"channel": "phone", "complainant_phone": "13812345678", "description": "x", "extra": {"r": NaN}}'
    error = assert_error(agent.post("/complaints", raw=raw), 400, "validation_error")
    assert error["details"]["fields"][0]["code"] == "extra_not_json"
    assert nothing_written()


def test_an_unknown_category_gets_400_unknown_category(agent):
    error = assert_error(agent.post("/complaints", {**VALID, "category_id": 999_999}), 400, "unknown_category")
    assert error["details"] == {"category_id": 999_999}
    assert nothing_written()


@pytest.mark.parametrize("raw", ['{"channel": "phone",', "not json at all", "{'single': 'quotes'}", "\xff\xfe"])
def test_malformed_json_gets_400_malformed_request(agent, raw):
    assert_error(agent.post("/complaints", raw=raw), 400, "malformed_request")
    assert nothing_written()


@pytest.mark.parametrize("raw", ["[]", '"a string"', "42", "null", ""])
def test_a_body_that_is_not_an_object_gets_400(agent, raw):
    response = agent.post("/complaints", raw=raw)
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert nothing_written()


def test_a_wrong_token_gets_401_and_writes_nothing(org):
    from tests.api.conftest import ApiClient

    assert_error(ApiClient("kx_forged").post("/complaints", VALID), 401, "unauthorized")
    assert nothing_written()
