from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from kuaixiang import clock
from kuaixiang.remedies.services import approval_steps_sweep


@db_periodic_task(crontab(minute="*"))
def sweep_approval_steps() -> int:
    """Escalate late approval steps; safe with several workers (compare-and-set on the level)."""
    return len(approval_steps_sweep(now=clock.now()))
