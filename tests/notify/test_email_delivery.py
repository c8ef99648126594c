"""E-mail from the outbox, through Django's SMTP backend, to a real SMTP server on localhost."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from kuaixiang.notify.models import Notification
from kuaixiang.notify.services import backoff, notification_deliver
from tests.notify.support import accepted_complaint, dispatch

pytestmark = pytest.mark.smtp

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def _emails():
    return Notification.objects.filter(channel=Notification.Channel.EMAIL).order_by("address")


def _dispatch_and_deliver(org, capture):
    """Dispatch at T0 and run the on-commit delivery (Huey immediate mode: the real task)."""
    complaint = accepted_complaint(org)
    with time_machine.travel(T0, tick=False), capture(execute=True):
        dispatch(complaint, actor=org.agent, department=org.network)
    return complaint


def test_a_dispatch_delivers_the_email_to_the_smtp_server(org, smtp_server, django_capture_on_commit_callbacks):
    complaint = _dispatch_and_deliver(org, django_capture_on_commit_callbacks)

    rows = list(_emails())
    assert [r.address for r in rows] == ["handler@example.cn", "head@example.cn"]
    assert all(r.status == Notification.Status.SENT for r in rows)
    assert all(r.attempts == 1 and r.sent_at == T0 and r.next_attempt_at is None for r in rows)
    received = smtp_server.by_message_id()
    assert set(received) == {str(r.pk) for r in rows}
    for row in rows:
        message = received[str(row.pk)]
        assert message["To"] == row.address
        assert message["Message-ID"] == f"<{row.pk}@kuaixiang>"
        assert complaint.number in message["Subject"]
        assert f"/complaints/{complaint.pk}/" in message.get_content()


def test_an_unreachable_smtp_server_sends_the_message_back_to_pending_with_a_backoff(
    org, smtp_server, django_capture_on_commit_callbacks
):
    smtp_server.stop()

    _dispatch_and_deliver(org, django_capture_on_commit_callbacks)

    for row in _emails():
        assert row.status == Notification.Status.PENDING
        assert row.attempts == 1
        assert row.last_error.startswith("ConnectionRefusedError")
        assert row.next_attempt_at == T0 + backoff(1) == T0 + timedelta(seconds=30)
        assert row.sent_at is None


def test_a_message_is_not_retried_before_its_backoff_has_passed(org, smtp_server, django_capture_on_commit_callbacks):
    smtp_server.stop()
    _dispatch_and_deliver(org, django_capture_on_commit_callbacks)
    smtp_server.start()
    row = _emails().first()

    with time_machine.travel(T0 + timedelta(seconds=29), tick=False):
        assert notification_deliver(notification_id=row.pk) is None

    row.refresh_from_db()
    assert (row.status, row.attempts) == (Notification.Status.PENDING, 1)
    assert smtp_server.messages == []


def test_a_message_fails_for_good_after_the_maximum_number_of_attempts(
    org, smtp_server, settings, django_capture_on_commit_callbacks
):
    settings.KX_OUTBOX_MAX_ATTEMPTS = 3
    smtp_server.stop()
    _dispatch_and_deliver(org, django_capture_on_commit_callbacks)
    row = _emails().first()

    with time_machine.travel(T0 + timedelta(seconds=30), tick=False):
        assert notification_deliver(notification_id=row.pk) == Notification.Status.PENDING
    row.refresh_from_db()
    assert (row.attempts, row.next_attempt_at) == (2, T0 + timedelta(seconds=30 + 60))

    with time_machine.travel(T0 + timedelta(seconds=90), tick=False):
        assert notification_deliver(notification_id=row.pk) == Notification.Status.FAILED
    row.refresh_from_db()
    assert row.status == Notification.Status.FAILED
    assert row.attempts == 3
    assert row.next_attempt_at is None
    assert row.last_error

    smtp_server.start()
    with time_machine.travel(T0 + timedelta(days=1), tick=False):
        assert notification_deliver(notification_id=row.pk) is None
    assert smtp_server.messages == []


def test_a_retry_succeeds_once_the_smtp_server_is_back(org, smtp_server, django_capture_on_commit_callbacks):
    smtp_server.stop()
    _dispatch_and_deliver(org, django_capture_on_commit_callbacks)
    smtp_server.start()
    row = _emails().first()

    with time_machine.travel(T0 + timedelta(seconds=30), tick=False):
        assert notification_deliver(notification_id=row.pk) == Notification.Status.SENT

    row.refresh_from_db()
    assert row.status == Notification.Status.SENT
    assert row.attempts == 2
    assert row.last_error == ""
    assert row.sent_at == T0 + timedelta(seconds=30)
    assert list(smtp_server.by_message_id()) == [str(row.pk)]
