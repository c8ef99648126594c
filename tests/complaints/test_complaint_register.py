"""complaint_register and complaint_register_bulk: numbers, events, idempotency, bad input."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from kuaixiang import clock
from kuaixiang.complaints.intake import parse_complaint_input
from kuaixiang.complaints.models import Complaint, ComplaintEvent, IdempotencyKey
from kuaixiang.complaints.numbers import allocate_numbers, format_number
from kuaixiang.complaints.services import complaint_register, complaint_register_bulk
from kuaixiang.errors import Forbidden, InvalidInput
from tests.personas import register

VALID = {"channel": "phone", "complainant_phone": "13812345678", "description": "手机没有信号"}


def data(**fields):
    return parse_complaint_input({**VALID, **fields})


def nothing_written():
    return Complaint.objects.count() == 0 and ComplaintEvent.objects.count() == 0


class TestRegister:
    def test_a_complaint_gets_a_readable_number_and_one_register_event(self, org):
        registered = complaint_register(actor=org.agent, data=data(place="杭州市西湖区", amount_claimed="12.50"))
        c = registered.complaint
        assert registered.created
        assert re.fullmatch(r"TS\d{8}\d{6}", c.number)
        assert c.number[2:10] == clock.local_now().strftime("%Y%m%d")
        assert (c.status, c.intake_department, c.registered_by) == ("registered", org.centre, org.agent)
        assert c.amount_claimed == Decimal("12.50")
        assert list(c.events.values_list("action", "from_status", "to_status")) == [("register", "", "registered")]

    def test_numbers_count_up_within_a_shanghai_day_and_restart_the_next(self, org):
        # 15:59 UTC is 23:59 in Shanghai; two minutes later it is the next day there.
        with time_machine.travel(datetime(2026, 11, 22, 15, 59, tzinfo=UTC), tick=False):
            first, second = register(org.agent), register(org.agent)
        with time_machine.travel(datetime(2026, 11, 22, 16, 1, tzinfo=UTC), tick=False):
            third = register(org.agent)
        assert [first.number, second.number, third.number] == [
            "TS20261122000001",
            "TS20261122000002",
            "TS20261123000001",
        ]

    def test_a_block_of_numbers_is_consecutive(self, db):
        with time_machine.travel(datetime(2026, 1, 2, 3, tzinfo=UTC), tick=False):
            assert allocate_numbers(3) == [format_number(datetime(2026, 1, 2).date(), n) for n in (1, 2, 3)]

    def test_the_same_channel_and_external_id_returns_the_first_complaint(self, org):
        first = complaint_register(actor=org.agent, data=data(external_id="12345-0001"))
        again = complaint_register(actor=org.lead, data=data(external_id="12345-0001", description="重复推送"))
        assert not again.created
        assert again.complaint.pk == first.complaint.pk
        assert Complaint.objects.count() == 1

    def test_the_same_external_id_on_another_channel_is_another_complaint(self, org):
        first = complaint_register(actor=org.agent, data=data(external_id="A1"))
        other = complaint_register(actor=org.agent, data=data(external_id="A1", channel="hotline_12345"))
        assert other.created and other.complaint.pk != first.complaint.pk

    def test_an_idempotency_key_returns_the_first_complaint_to_the_same_user_only(self, org):
        first = complaint_register(actor=org.agent, data=data(), idempotency_key="req-1")
        again = complaint_register(actor=org.agent, data=data(description="重发"), idempotency_key="req-1")
        someone_else = complaint_register(actor=org.lead, data=data(), idempotency_key="req-1")
        assert (again.created, again.complaint.pk) == (False, first.complaint.pk)
        assert someone_else.created
        assert IdempotencyKey.objects.count() == 2

    @pytest.mark.parametrize("key", ["", "k" * 201])
    def test_an_idempotency_key_must_be_1_to_200_characters(self, org, key):
        with pytest.raises(InvalidInput) as refused:
            complaint_register(actor=org.agent, data=data(), idempotency_key=key)
        assert refused.value.code == "invalid_idempotency_key"
        assert nothing_written()

    def test_an_unknown_or_inactive_category_is_refused_and_nothing_is_written(self, org):
        org.leaf.active = False
        org.leaf.save()
        for category_id in (10**9, org.leaf.pk):
            with pytest.raises(InvalidInput) as refused:
                complaint_register(actor=org.agent, data=data(category_id=category_id))
            assert refused.value.code == "unknown_category"
        assert nothing_written()

    def test_a_user_without_a_staff_record_cannot_register(self, db, django_user_model):
        stranger = django_user_model.objects.create_user("stranger", password="x")
        with pytest.raises(Forbidden) as refused:
            complaint_register(actor=stranger, data=data())
        assert refused.value.code == "not_staff"


class TestInput:
    def test_only_channel_phone_and_description_are_required(self):
        parsed = data()
        assert (parsed.channel, parsed.complainant_phone, parsed.severity) == ("phone", "13812345678", "general")

    def test_an_anonymous_complaint_needs_no_phone(self):
        assert data(anonymous=True, complainant_phone=None).complainant_phone is None

    def test_a_named_complaint_needs_a_phone(self):
        with pytest.raises(InvalidInput) as refused:
            data(complainant_phone="")
        assert refused.value.details["fields"][0]["code"] == "phone_required"

    def test_a_naive_received_time_is_shanghai_time(self):
        parsed = data(received_at="2025-05-01T09:30:00")
        assert parsed.received_at == datetime(2025, 5, 1, 1, 30, tzinfo=UTC)

    @pytest.mark.parametrize(
        ("fields", "field", "code"),
        [
            ({"channel": "pigeon"}, "channel", "invalid_choice"),
            ({"complainant_phone": "12345"}, "complainant_phone", "invalid_phone"),
            ({"description": ""}, "description", "text_too_short"),
            ({"description": "长" * 10_001}, "description", "text_too_long"),
            ({"appeal": "长" * 10_001}, "appeal", "text_too_long"),
            ({"external_id": "x" * 101}, "external_id", "text_too_long"),
            ({"amount_claimed": "-1"}, "amount_claimed", "too_small"),
            ({"amount_claimed": "1.234"}, "amount_claimed", "too_many_decimals"),
            ({"amount_claimed": "1e20"}, "amount_claimed", "number_too_large"),
            ({"category_id": 0}, "category_id", "too_small"),
            ({"category_id": 2**70}, "category_id", "too_large"),
            ({"severity": "apocalyptic"}, "severity", "invalid_choice"),
            ({"received_at": "yesterday"}, "received_at", "not_a_datetime"),
            ({"received_at": "1999-12-31T23:00:00+08:00"}, "received_at", "received_too_old"),
            ({"extra": {"blob": "x" * 10_001}}, "extra", "extra_too_large"),
            ({"extra": {"ratio": float("nan")}}, "extra", "extra_not_json"),
            ({"extra": "a string"}, "extra", "not_an_object"),
            ({"surprise": 1}, "surprise", "unknown_field"),
            ({"description": "a\x00b"}, "", "nul_character"),
            ({"extra": {"k\x00": 1}}, "", "nul_character"),
        ],
    )
    def test_bad_input_is_refused_with_a_field_code_and_a_chinese_message(self, fields, field, code):
        with pytest.raises(InvalidInput) as refused:
            data(**fields)
        assert refused.value.code == "validation_error"
        first = refused.value.details["fields"][0]
        assert (first["field"], first["code"]) == (field, code)
        assert re.search(r"[\u4e00-\u9fff]", first["message"])

    def test_a_received_time_in_the_future_is_refused(self):
        future = (clock.now() + timedelta(hours=1)).isoformat()
        with pytest.raises(InvalidInput) as refused:
            data(received_at=future)
        assert refused.value.details["fields"][0]["code"] == "received_in_future"


class TestBulk:
    def test_each_item_gets_its_own_result_and_only_valid_new_items_are_written(self, org):
        existing = complaint_register(actor=org.agent, data=data(external_id="OLD-1")).complaint
        items = [
            data(external_id="NEW-1"),
            InvalidInput("validation_error", "输入有误"),
            data(external_id="NEW-1", description="同批重复"),
            data(external_id="OLD-1"),
            data(category_id=10**9),
            data(),
        ]
        results = complaint_register_bulk(actor=org.agent, items=items)
        assert [r.status for r in results] == [201, 400, 200, 200, 400, 201]
        assert results[2].complaint.pk == results[0].complaint.pk
        assert results[3].complaint.pk == existing.pk
        assert results[4].error["code"] == "unknown_category"
        assert Complaint.objects.count() == 3
        assert ComplaintEvent.objects.filter(action="register").count() == 3
        numbers = [r.complaint.number for r in results if r.status == 201]
        assert len(set(numbers)) == 2

    def test_bulk_items_are_registered_like_single_ones(self, org):
        (result,) = complaint_register_bulk(actor=org.agent, items=[data(subject="营业厅")])
        c = Complaint.objects.get(pk=result.complaint.pk)
        assert (c.status, c.intake_department, c.registered_by, c.subject) == (
            "registered",
            org.centre,
            org.agent,
            "营业厅",
        )
        assert c.events.get().action == "register"
