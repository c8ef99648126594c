"""A real Huey consumer, fed through Redis, delivers what a committed dispatch put in the outbox.

Everything else in the suite runs Huey in immediate mode; here the project's own Huey instance
(``huey.contrib.djhuey.HUEY``, which the tasks are bound to) is pointed at a private Redis queue
with immediate mode off, and a consumer runs in threads of this process so that it shares the
test database (a subprocess could not see SQLite's in-memory test database).
"""

import os
import threading
import uuid
from contextlib import contextmanager

import pytest
import redis
from django.db import connections
from huey import signals
from huey.consumer import Consumer
from huey.contrib.djhuey import HUEY
from huey.storage import RedisStorage

from kuaixiang.notify.models import Notification, WebhookEndpoint
from tests.notify.support import accepted_complaint, dispatch

pytestmark = pytest.mark.redis

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
WAIT_SECONDS = 20


def _redis_or_skip() -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except (redis.RedisError, OSError) as exc:
        message = f"Redis unreachable at {REDIS_URL}: {exc}"
        if os.environ.get("CI") or os.environ.get("KX_REQUIRE_SERVICES"):
            pytest.fail(message)
        pytest.skip(message)


@contextmanager
def project_huey_on_redis():
    """Point the project's Huey at a private Redis queue with immediate mode off; restore it after."""
    saved_immediate, saved_storage = HUEY.immediate, HUEY.storage
    HUEY.immediate = False
    HUEY.storage = RedisStorage(name=f"kx-test-{uuid.uuid4().hex}", url=REDIS_URL)
    try:
        yield HUEY
    finally:
        HUEY.storage.flush_all()
        HUEY.storage.pool.disconnect()
        HUEY.immediate = saved_immediate
        HUEY.storage = saved_storage


class InProcessConsumer(Consumer):
    def _set_signal_handlers(self):
        """pytest owns the main thread's signals; this consumer is stopped with ``stop()``."""


@contextmanager
def running_consumer(huey):
    """A one-thread Huey consumer; each worker thread closes its database connections on exit."""

    def close_connections():
        connections.close_all()

    huey.on_shutdown("kx-test-close-db")(close_connections)
    consumer = InProcessConsumer(
        huey, workers=1, worker_type="thread", periodic=False, check_worker_health=False, shutdown_timeout=WAIT_SECONDS
    )
    consumer.start()
    try:
        yield consumer
    finally:
        consumer.stop(graceful=True)
        huey.unregister_on_shutdown("kx-test-close-db")


@contextmanager
def task_finished(huey):
    """An event set in the worker thread once a task has completed or failed."""
    done = threading.Event()
    finished = []

    def on_finish(signal, task, *args, **kwargs):
        finished.append((signal, task.name, threading.current_thread().name))
        done.set()

    huey.signal(signals.SIGNAL_COMPLETE, signals.SIGNAL_ERROR)(on_finish)
    try:
        yield done, finished
    finally:
        huey.disconnect_signal(on_finish)


def test_a_real_consumer_on_redis_delivers_a_committed_dispatch(transactional_db, org, receiver):
    _redis_or_skip()
    WebhookEndpoint.objects.create(name="值班群", format="wecom", url=receiver.url("/hook"), actions=["dispatch"])
    complaint = accepted_complaint(org)

    immediate_storage = HUEY.storage
    with project_huey_on_redis() as huey, task_finished(huey) as (done, finished):
        # The dispatch commits; its on-commit hook enqueues deliver_notifications into Redis.
        dispatch(complaint, actor=org.agent, department=org.network)
        webhook = Notification.objects.get(channel=Notification.Channel.WEBHOOK)
        assert webhook.status == Notification.Status.PENDING
        assert huey.pending_count() == 1  # waiting in Redis: nothing has run it yet

        with running_consumer(huey):
            assert receiver.wait_for(1, timeout=WAIT_SECONDS), "the consumer never posted the webhook"
            assert done.wait(WAIT_SECONDS), "the consumer never finished the task"

        assert finished == [(signals.SIGNAL_COMPLETE, "deliver_notifications", "Worker-1")]
        assert huey.pending_count() == 0

    assert HUEY.immediate and HUEY.storage is immediate_storage  # the rest of the suite is unaffected
    (request,) = receiver.requests
    assert request.message_id == str(webhook.pk)
    assert f"消息ID：{webhook.pk}" in request.body["text"]["content"]
    webhook.refresh_from_db()
    assert (webhook.status, webhook.attempts) == (Notification.Status.SENT, 1)
    emails = Notification.objects.filter(channel=Notification.Channel.EMAIL)
    assert {(e.address, e.status) for e in emails} == {
        ("handler@example.cn", Notification.Status.SENT),
        ("head@example.cn", Notification.Status.SENT),
    }
