"""Huey tasks of the early-warning mechanism (thin: the work is in ``baseline``)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from kuaixiang import clock
from kuaixiang.alerts.baseline import baselines_evaluate


@db_periodic_task(crontab(minute="*"))
def evaluate_baselines() -> int:
    """Every minute: run the baseline (surge) rules; return the number of warnings raised or risen."""
    return len(baselines_evaluate(now=clock.now()))
