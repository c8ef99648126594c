"""What a complaint action writes to the outbox, inside the action's own transaction."""

import pytest
from django.core import mail
from django.db import transaction

from kuaixiang.complaints.services import complaint_transition
from kuaixiang.errors import Conflict, Forbidden, InvalidInput
from kuaixiang.notify.models import Notification, WebhookEndpoint
from kuaixiang.notify.selectors import inbox_page
from kuaixiang.notify.services import inbox_mark_read, inbox_unread_count
from tests.notify.support import accepted_complaint, dispatch
from tests.personas import register

DEAD_URL = "http://127.0.0.1:9/never-called"


def _hook(name, **fields):
    return WebhookEndpoint.objects.create(name=name, format="wecom", url=f"{DEAD_URL}/{name}", **fields)


def _rows(channel):
    return Notification.objects.filter(channel=channel)


class TestADispatch:
    def test_puts_a_message_in_the_inbox_of_the_target_departments_handler_and_head(self, org):
        complaint = accepted_complaint(org)
        dispatch(complaint, actor=org.agent, department=org.network)

        inbox = _rows(Notification.Channel.INBOX)
        assert {n.recipient for n in inbox} == {org.handler, org.head}
        assert all(n.status == Notification.Status.SENT and n.sent_at for n in inbox)
        assert all(n.complaint_id == complaint.pk and n.link == f"/complaints/{complaint.pk}/" for n in inbox)
        assert all(complaint.number in n.subject and "派往：甲网络部" in n.body for n in inbox)

    def test_does_not_tell_the_actor_about_his_own_action(self, org):
        # The agent registered the complaint, so every later action would tell him — but not his own.
        complaint = accepted_complaint(org)
        dispatch(complaint, actor=org.agent, department=org.network)

        assert not Notification.objects.filter(recipient=org.agent).exists()

    def test_tells_the_registering_agent_when_someone_else_dispatches(self, org):
        complaint = accepted_complaint(org)
        dispatch(complaint, actor=org.lead, department=org.network)

        assert {n.recipient for n in _rows(Notification.Channel.INBOX)} == {org.handler, org.head, org.agent}
        assert not Notification.objects.filter(recipient=org.lead).exists()

    def test_leaves_other_departments_alone(self, org):
        complaint = accepted_complaint(org)
        dispatch(complaint, actor=org.agent, department=org.network)

        strangers = [org.biz_handler, org.outsider, org.manager, org.lead, org.leader]
        assert not Notification.objects.filter(recipient__in=strangers).exists()

    def test_queues_a_pending_email_for_each_recipient_with_an_address(self, org):
        org.head.email = ""
        org.head.save()
        complaint = accepted_complaint(org)
        dispatch(complaint, actor=org.agent, department=org.network)

        (email,) = _rows(Notification.Channel.EMAIL)
        assert (email.recipient, email.address) == (org.handler, "handler@example.cn")
        assert email.status == Notification.Status.PENDING
        assert email.attempts == 0
        assert email.next_attempt_at == email.created_at

    def test_queues_a_webhook_message_for_each_active_endpoint_that_wants_it(self, org):
        everything = _hook("everything")
        network_dispatches = _hook("network-dispatches", department=org.network, actions=["dispatch"])
        _hook("other-branch", department=org.other_network)
        _hook("replies-only", actions=["reply"])
        _hook("switched-off", active=False)
        complaint = accepted_complaint(org)
        dispatch(complaint, actor=org.agent, department=org.network)

        webhooks = _rows(Notification.Channel.WEBHOOK)
        assert {n.webhook for n in webhooks} == {everything, network_dispatches}
        assert all(n.address == n.webhook.url and n.status == Notification.Status.PENDING for n in webhooks)
        assert all(n.recipient is None for n in webhooks)

    def test_that_is_refused_queues_nothing(self, org):
        _hook("everything")
        fresh = register(org.agent)
        complaint = accepted_complaint(org)
        Notification.objects.all().delete()

        with pytest.raises(Forbidden):  # a leader may see it but not dispatch it
            dispatch(complaint, actor=org.leader, department=org.network)
        with pytest.raises(Conflict):  # not accepted yet
            dispatch(fresh, actor=org.agent, department=org.network)
        with pytest.raises(InvalidInput):
            complaint_transition(
                complaint_id=complaint.pk, action="dispatch", actor=org.agent, data={"department_id": 999_999}
            )

        assert not Notification.objects.exists()

    def test_rolled_back_by_its_caller_queues_and_schedules_nothing(self, org, django_capture_on_commit_callbacks):
        _hook("everything")
        complaint = accepted_complaint(org)
        Notification.objects.all().delete()

        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            with pytest.raises(RuntimeError), transaction.atomic():
                dispatch(complaint, actor=org.agent, department=org.network)
                assert Notification.objects.count() == 5  # 2 inbox, 2 e-mail, 1 webhook
                raise RuntimeError("the caller fails after the dispatch")

        assert not Notification.objects.exists()
        assert callbacks == []
        assert mail.outbox == []

    def test_that_commits_schedules_one_delivery_for_the_outbound_rows(self, org, django_capture_on_commit_callbacks):
        complaint = accepted_complaint(org)

        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            dispatch(complaint, actor=org.agent, department=org.network)

        assert len(callbacks) == 1
        assert sorted(m.to[0] for m in mail.outbox) == ["handler@example.cn", "head@example.cn"]
        assert set(_rows(Notification.Channel.EMAIL).values_list("status", flat=True)) == {"sent"}


class TestTheInbox:
    def test_counts_new_messages_as_unread(self, org):
        dispatch(accepted_complaint(org), actor=org.agent, department=org.network)
        dispatch(accepted_complaint(org), actor=org.agent, department=org.network)

        assert inbox_unread_count(org.handler) == 2
        assert inbox_unread_count(org.head) == 2
        assert inbox_unread_count(org.agent) == 0
        assert [m["read"] for m in inbox_page(org.handler)] == [False, False]

    def test_mark_read_clears_the_unread_count(self, org):
        dispatch(accepted_complaint(org), actor=org.agent, department=org.network)

        assert inbox_mark_read(user=org.handler) == 1

        assert inbox_unread_count(org.handler) == 0
        assert inbox_page(org.handler, unread_only=True) == []
        assert [m["read"] for m in inbox_page(org.handler)] == [True]

    def test_mark_read_of_some_messages_leaves_the_rest_unread(self, org):
        dispatch(accepted_complaint(org), actor=org.agent, department=org.network)
        dispatch(accepted_complaint(org), actor=org.agent, department=org.network)
        first, _ = inbox_page(org.handler)

        assert inbox_mark_read(user=org.handler, notification_ids=[first["id"]]) == 1

        assert inbox_unread_count(org.handler) == 1
        assert [m["id"] for m in inbox_page(org.handler, unread_only=True)] != [first["id"]]

    def test_mark_read_never_touches_another_users_messages(self, org):
        dispatch(accepted_complaint(org), actor=org.agent, department=org.network)
        heads_message = Notification.objects.get(recipient=org.head, channel=Notification.Channel.INBOX)

        assert inbox_mark_read(user=org.handler, notification_ids=[heads_message.pk]) == 0

        assert inbox_unread_count(org.head) == 1
