"""Group-bot webhooks (WeCom, DingTalk, Feishu) delivered to a local HTTP receiver, at least once."""

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection

from kuaixiang.notify import services, tasks
from kuaixiang.notify.models import Notification, WebhookEndpoint
from kuaixiang.notify.services import notification_deliver
from kuaixiang.notify.tasks import drain_outbox
from tests.notify.support import Received, accepted_complaint, dispatch

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
DING_SECRET = "SEC0123456789abcdef"
FEISHU_SECRET = "feishu-secret"


def _hook(receiver, fmt, path, **fields):
    # Dispatches only: the accept before each dispatch must not add rows of its own.
    fields.setdefault("actions", ["dispatch"])
    return WebhookEndpoint.objects.create(name=fmt, format=fmt, url=receiver.url(path), **fields)


def _webhooks():
    return Notification.objects.filter(channel=Notification.Channel.WEBHOOK)


def _dispatch(org, capture=None):
    """Dispatch at T0; with ``capture`` the on-commit delivery runs (Huey immediate mode)."""
    complaint = accepted_complaint(org)
    with time_machine.travel(T0, tick=False):
        if capture is None:
            dispatch(complaint, actor=org.agent, department=org.network)
        else:
            with capture(execute=True):
                dispatch(complaint, actor=org.agent, department=org.network)
    return complaint


def _b64_hmac(key: str, message: bytes) -> str:
    return base64.b64encode(hmac.new(key.encode(), message, hashlib.sha256).digest()).decode()


def test_the_backoff_doubles_from_thirty_seconds_and_stops_at_an_hour():
    assert [services.backoff(n).total_seconds() for n in range(1, 10)] == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert services.backoff(1000) == timedelta(hours=1)  # no overflow for a generous attempt limit


class TestTheBotFormats:
    @pytest.fixture
    def delivered(self, org, receiver, django_capture_on_commit_callbacks):
        _hook(receiver, "wecom", "/cgi-bin/webhook/send?key=wecom-key")
        _hook(receiver, "dingtalk", "/robot/send?access_token=ding-token", secret=DING_SECRET)
        _hook(receiver, "feishu", "/open-apis/bot/v2/hook/feishu-hook", secret=FEISHU_SECRET)
        complaint = _dispatch(org, django_capture_on_commit_callbacks)
        requests = {r.path.split("/")[1]: r for r in receiver.requests}
        rows = {n.webhook.format: n for n in _webhooks().select_related("webhook")}
        return complaint, requests, rows

    def test_every_endpoint_gets_one_post_and_its_message_is_sent(self, delivered, receiver):
        _, requests, rows = delivered
        assert len(receiver.requests) == 3
        assert {r.method for r in receiver.requests} == {"POST"}
        assert all(r.headers["Content-Type"].startswith("application/json") for r in receiver.requests)
        assert {n.status for n in rows.values()} == {Notification.Status.SENT}
        assert {n.attempts for n in rows.values()} == {1}

    def test_each_post_carries_the_outbox_id_in_a_header_and_in_the_text(self, delivered):
        complaint, requests, rows = delivered
        for path, fmt in (("cgi-bin", "wecom"), ("robot", "dingtalk"), ("open-apis", "feishu")):
            request, row = requests[path], rows[fmt]
            assert request.message_id == str(row.pk)
            text = request.body["content"]["text"] if fmt == "feishu" else request.body["text"]["content"]
            assert f"消息ID：{row.pk}" in text
            assert complaint.number in text
            assert f"/complaints/{complaint.pk}/" in text

    def test_wecom_gets_a_text_message(self, delivered):
        _, requests, _ = delivered
        wecom = requests["cgi-bin"]
        assert wecom.query == {"key": ["wecom-key"]}
        assert set(wecom.body) == {"msgtype", "text"}
        assert wecom.body["msgtype"] == "text"
        assert set(wecom.body["text"]) == {"content"}

    def test_dingtalk_gets_a_text_message_and_a_signed_url(self, delivered):
        _, requests, _ = delivered
        ding = requests["robot"]
        assert set(ding.body) == {"msgtype", "text"}
        assert ding.body["msgtype"] == "text"
        assert ding.query["access_token"] == ["ding-token"]
        (timestamp,) = ding.query["timestamp"]
        (sign,) = ding.query["sign"]
        assert timestamp == str(int(T0.timestamp() * 1000))  # milliseconds
        assert sign == _b64_hmac(DING_SECRET, f"{timestamp}\n{DING_SECRET}".encode())

    def test_feishu_gets_a_text_message_with_a_signature_in_the_body(self, delivered):
        _, requests, _ = delivered
        feishu = requests["open-apis"]
        assert feishu.query == {}
        assert feishu.body["msg_type"] == "text"
        assert set(feishu.body["content"]) == {"text"}
        timestamp = feishu.body["timestamp"]
        assert timestamp == str(int(T0.timestamp()))  # seconds
        assert feishu.body["sign"] == _b64_hmac(f"{timestamp}\n{FEISHU_SECRET}", b"")

    def test_without_a_secret_neither_dingtalk_nor_feishu_is_signed(self, org, receiver):
        _hook(receiver, "dingtalk", "/robot/send?access_token=t")
        _hook(receiver, "feishu", "/open-apis/bot/v2/hook/h")
        _dispatch(org)
        for row in _webhooks():
            notification_deliver(notification_id=row.pk)

        feishu, ding = sorted(receiver.requests, key=lambda r: r.path)
        assert ding.query == {"access_token": ["t"]}
        assert "sign" not in feishu.body and "timestamp" not in feishu.body


class TestARefusingReceiver:
    @pytest.mark.parametrize(
        ("status", "answer", "error"),
        [
            (500, {"errmsg": "internal"}, "HTTP Error 500"),
            (200, {"errcode": 310000, "errmsg": "keywords not in content"}, "bot answered 310000"),
            (200, {"code": 19021, "msg": "sign match fail"}, "bot answered 19021"),
        ],
        ids=["http-500", "wecom-dingtalk-errcode", "feishu-code"],
    )
    def test_keeps_the_message_pending_with_a_backoff(
        self, org, receiver, django_capture_on_commit_callbacks, status, answer, error
    ):
        receiver.respond = lambda request: (status, answer)
        _hook(receiver, "wecom", "/hook")
        _dispatch(org, django_capture_on_commit_callbacks)

        (row,) = _webhooks()
        assert len(receiver.requests) == 1
        assert row.status == Notification.Status.PENDING
        assert row.attempts == 1
        assert error in row.last_error
        assert row.next_attempt_at == T0 + timedelta(seconds=30)

    def test_that_recovers_gets_the_retry_once_it_is_due(self, org, receiver, django_capture_on_commit_callbacks):
        answers = iter([(500, {}), (200, {"errcode": 0})])
        receiver.respond = lambda request: next(answers)
        _hook(receiver, "wecom", "/hook")
        _dispatch(org, django_capture_on_commit_callbacks)

        with time_machine.travel(T0 + timedelta(seconds=30), tick=False):
            drain_outbox()

        (row,) = _webhooks()
        assert (row.status, row.attempts, row.last_error) == (Notification.Status.SENT, 2, "")
        assert len(receiver.requests) == 2


def test_a_receiver_that_drops_repeats_processes_each_message_once(org, receiver, django_capture_on_commit_callbacks):
    """At-least-once: the bot handled the first post but its answer was lost (HTTP 502 from a proxy,
    say), so we send again; the receiver recognises the message id and does not act twice."""
    processed: list[str] = []
    seen_by_receiver: set[str] = set()

    def answer(request: Received):
        first_time = request.message_id not in seen_by_receiver
        if first_time:
            seen_by_receiver.add(request.message_id)
            processed.append(request.message_id)
            return 502, {"errmsg": "bad gateway"}  # the work was done; the answer did not make it
        return 200, {"errcode": 0, "errmsg": "duplicate ignored"}

    receiver.respond = answer
    _hook(receiver, "wecom", "/hook")
    _dispatch(org, django_capture_on_commit_callbacks)
    (row,) = _webhooks()

    with time_machine.travel(T0 + timedelta(seconds=30), tick=False):
        assert notification_deliver(notification_id=row.pk) == Notification.Status.SENT

    assert [r.message_id for r in receiver.requests] == [str(row.pk), str(row.pk)]
    assert processed == [str(row.pk)]


class TestTheOutboxDrain:
    def test_delivers_due_messages_whose_on_commit_enqueue_was_lost(self, org, receiver):
        _hook(receiver, "wecom", "/a")
        _hook(receiver, "feishu", "/b")
        _dispatch(org)  # the test transaction never commits: no on-commit delivery happened
        assert set(_webhooks().values_list("status", flat=True)) == {Notification.Status.PENDING}
        assert receiver.requests == []

        with time_machine.travel(T0 + timedelta(seconds=1), tick=False):
            drain_outbox()

        assert {r.message_id for r in receiver.requests} == {str(pk) for pk in _webhooks().values_list("pk", flat=True)}
        assert set(_webhooks().values_list("status", flat=True)) == {Notification.Status.SENT}

    def test_delivers_messages_whose_enqueue_failed_at_commit_and_the_action_still_succeeds(
        self, org, receiver, monkeypatch, django_capture_on_commit_callbacks
    ):
        def broker_down(ids):
            raise ConnectionError("Redis is down")

        monkeypatch.setattr(tasks, "deliver_notifications", broker_down)
        _hook(receiver, "wecom", "/hook")

        complaint = _dispatch(org, django_capture_on_commit_callbacks)  # does not raise

        complaint.refresh_from_db()
        assert complaint.status == "dispatched"
        (row,) = _webhooks()
        assert (row.status, row.attempts) == (Notification.Status.PENDING, 0)
        with time_machine.travel(T0 + timedelta(minutes=1), tick=False):
            drain_outbox()
        row.refresh_from_db()
        assert row.status == Notification.Status.SENT
        assert [r.message_id for r in receiver.requests] == [str(row.pk)]

    def test_leaves_messages_that_are_not_due_yet(self, org, receiver):
        _hook(receiver, "wecom", "/hook")
        _hook(receiver, "dingtalk", "/later")
        _dispatch(org)
        later = _webhooks().get(webhook__format="dingtalk")
        _webhooks().filter(pk=later.pk).update(next_attempt_at=T0 + timedelta(minutes=5))

        with time_machine.travel(T0 + timedelta(minutes=1), tick=False):
            drain_outbox()

        later.refresh_from_db()
        assert (later.status, later.attempts) == (Notification.Status.PENDING, 0)
        assert [r.path for r in receiver.requests] == ["/hook"]

    def test_picks_up_a_message_a_dead_worker_left_sending(self, org, receiver):
        _hook(receiver, "wecom", "/hook")
        _dispatch(org)
        (row,) = _webhooks()
        # A worker claimed it at T0 and died before recording the outcome.
        _webhooks().update(status=Notification.Status.SENDING, attempts=1, next_attempt_at=T0 + timedelta(seconds=30))

        with time_machine.travel(T0 + timedelta(seconds=10), tick=False):
            drain_outbox()
        assert receiver.requests == []

        with time_machine.travel(T0 + timedelta(seconds=30), tick=False):
            drain_outbox()
        row.refresh_from_db()
        assert (row.status, row.attempts) == (Notification.Status.SENT, 2)
        assert len(receiver.requests) == 1

    def test_ignores_inbox_sent_and_failed_messages(self, org, receiver):
        _hook(receiver, "wecom", "/hook")
        _dispatch(org)
        _webhooks().update(status=Notification.Status.FAILED, next_attempt_at=None)

        with time_machine.travel(T0 + timedelta(hours=1), tick=False):
            drain_outbox()

        assert receiver.requests == []


class TestTwoWorkersRacingOnOneMessage:
    def test_deliver_it_once_thanks_to_the_claim(self, org, receiver, monkeypatch):
        """Worker B reads the row after worker A read it and before A's claim lands."""
        _hook(receiver, "wecom", "/hook")
        _dispatch(org)
        (row,) = _webhooks()
        outcomes = {}
        real_backoff = services.backoff

        def backoff_with_a_rival(attempts):
            # Called by A while it builds its claim: B runs whole in between.
            if "B" not in outcomes:
                outcomes["B"] = None
                outcomes["B"] = notification_deliver(notification_id=row.pk)
            return real_backoff(attempts)

        monkeypatch.setattr(services, "backoff", backoff_with_a_rival)
        with time_machine.travel(T0 + timedelta(seconds=1), tick=False):
            outcomes["A"] = notification_deliver(notification_id=row.pk)

        assert outcomes == {"B": Notification.Status.SENT, "A": None}
        row.refresh_from_db()
        assert (row.status, row.attempts) == (Notification.Status.SENT, 1)
        assert len(receiver.requests) == 1

    @pytest.mark.postgres_only
    def test_in_two_threads_deliver_it_once(self, transactional_db, org, receiver, monkeypatch):
        if connection.vendor != "postgresql":
            pytest.skip("real concurrent claims need PostgreSQL (SQLite's in-memory test database serialises)")
        import threading

        from django.db import connections

        _hook(receiver, "wecom", "/hook")
        monkeypatch.setattr(services, "_schedule", lambda ids: None)  # this test's workers deliver it
        dispatch(accepted_complaint(org), actor=org.agent, department=org.network)  # now, not at T0
        (row,) = _webhooks()
        both_have_read = threading.Barrier(2, timeout=10)
        real_backoff = services.backoff

        def backoff_after_both_read(attempts):
            both_have_read.wait()  # both workers saw (pending, 0 attempts) before either claims
            return real_backoff(attempts)

        monkeypatch.setattr(services, "backoff", backoff_after_both_read)
        outcomes = []

        def worker():
            try:
                outcomes.append(notification_deliver(notification_id=row.pk))
            finally:
                connections.close_all()

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)

        assert sorted(outcomes, key=str) == sorted([Notification.Status.SENT, None], key=str)
        row.refresh_from_db()
        assert (row.status, row.attempts) == (Notification.Status.SENT, 1)
        assert len(receiver.requests) == 1
