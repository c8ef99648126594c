"""complaint_register_bulk(at_receipt=True): each complaint registered at its own received_at."""

from datetime import UTC, datetime, timedelta

import pytest

from kuaixiang import clock
from kuaixiang.complaints.intake import parse_complaint_input
from kuaixiang.complaints.models import Complaint, ComplaintEvent
from kuaixiang.complaints.services import complaint_register_bulk
from kuaixiang.complaints.signals import complaints_registered
from kuaixiang.errors import InvalidInput

MORNING = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 Shanghai
NOON = MORNING + timedelta(hours=3)


def item(at: datetime | None, n: int = 0):
    fields = {"channel": "phone", "complainant_phone": f"138123456{n:02d}", "description": f"手机没有信号{n}"}
    return parse_complaint_input({**fields, "received_at": at.isoformat() if at else None})


def receipts(*minutes: int) -> list[datetime]:
    return [MORNING + timedelta(minutes=m, seconds=7) for m in minutes]


@pytest.fixture
def signalled():
    """The ``now`` and complaints of every ``complaints_registered`` signal sent in the test."""
    sent: list[tuple[datetime, list]] = []

    def receiver(sender, complaints, now=None, **kwargs):
        sent.append((now, list(complaints)))

    complaints_registered.connect(receiver, dispatch_uid="test_register_at_receipt")
    yield sent
    complaints_registered.disconnect(dispatch_uid="test_register_at_receipt")


def test_each_complaint_and_its_event_are_at_its_receipt(org, signalled):
    times = receipts(0, 0, 5, 61, 130)
    with clock.frozen(NOON):
        results = complaint_register_bulk(
            actor=org.agent, items=[item(at, n) for n, at in enumerate(times)], at_receipt=True
        )
    complaints = [r.complaint for r in results]
    assert [r.status for r in results] == [201] * 5
    for complaint, at in zip(complaints, times, strict=True):
        complaint.refresh_from_db()
        assert complaint.received_at == complaint.created_at == at
        assert complaint.events.get(action="register").at == at
    ((now, sent),) = signalled
    assert now == times[-1]  # the latest, not the clock's noon
    assert [c.pk for c in sent] == [c.pk for c in complaints]
    assert [c.created_at for c in sent] == times


def test_items_out_of_order_are_refused_and_nothing_is_written(org, signalled):
    with pytest.raises(InvalidInput) as refused:
        complaint_register_bulk(
            actor=org.agent, items=[item(at, n) for n, at in enumerate(receipts(0, 5, 3))], at_receipt=True
        )
    assert refused.value.code == "unordered_receipts"
    assert not Complaint.objects.exists() and not ComplaintEvent.objects.exists() and not signalled


def test_an_item_without_a_receipt_time_is_refused_and_nothing_is_written(org, signalled):
    items = [item(at, n) for n, at in enumerate([*receipts(0, 1), None])]
    with pytest.raises(InvalidInput) as refused:
        complaint_register_bulk(actor=org.agent, items=items, at_receipt=True)
    assert refused.value.code == "unordered_receipts"
    assert not Complaint.objects.exists() and not ComplaintEvent.objects.exists() and not signalled


def test_an_invalid_item_does_not_count_in_the_order(org):
    items = [item(at, n) for n, at in enumerate(receipts(0, 9))]
    items.insert(1, InvalidInput("bad", "错误"))
    results = complaint_register_bulk(actor=org.agent, items=items, at_receipt=True)
    assert [r.status for r in results] == [201, 400, 201]
    assert [r.complaint.created_at for r in (results[0], results[2])] == receipts(0, 9)


def test_without_at_receipt_every_complaint_is_registered_now(org, signalled):
    times = receipts(30, 0, 5)  # in any order
    with clock.frozen(NOON):
        results = complaint_register_bulk(actor=org.agent, items=[item(at, n) for n, at in enumerate(times)])
    complaints = Complaint.objects.filter(pk__in=[r.complaint.pk for r in results]).order_by("pk")
    assert [c.received_at for c in complaints] == times
    assert {c.created_at for c in complaints} == {NOON}
    assert set(ComplaintEvent.objects.values_list("at", flat=True)) == {NOON}
    assert [now for now, _ in signalled] == [NOON]
