from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from kuaixiang import clock
from kuaixiang.sla.services import escalations_sweep


@db_periodic_task(crontab(minute="*"))
def sweep_escalations() -> int:
    """Fire the escalation levels that are due; safe with several workers (compare-and-set)."""
    return len(escalations_sweep(now=clock.now()))
