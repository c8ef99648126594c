from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from kuaixiang.notify.services import notification_deliver, outbox_due_ids


@db_task()
def deliver_notifications(ids: list[str]) -> None:
    for notification_id in ids:
        notification_deliver(notification_id=notification_id)


@db_periodic_task(crontab(minute="*"))
def drain_outbox() -> None:
    """Retry what is due, and pick up messages whose on-commit enqueue was lost."""
    for notification_id in outbox_due_ids():
        notification_deliver(notification_id=notification_id)
