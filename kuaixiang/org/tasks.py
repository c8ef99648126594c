from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from kuaixiang.org.services import gaps_notify


@db_periodic_task(crontab(hour="0", minute="0"))
def notify_duty_gaps() -> int:
    """Daily at 00:00 UTC (08:00 in Shanghai; Huey schedules in UTC), tell department heads about
    roster gaps in the next 7 days."""
    return gaps_notify(days=7)
