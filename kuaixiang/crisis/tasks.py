from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from kuaixiang import clock
from kuaixiang.crisis import services, sweeps


@db_task(retries=3, retry_delay=5)
def open_incidents_for_warning(facts: services.WarningFacts) -> list[int]:
    """Open (or join) the incidents a warning activates; idempotent, so safe to retry."""
    return [i.pk for i in services.incidents_from_warning(facts=facts)]


@db_periodic_task(crontab(minute="*"))
def sweep_incident_tasks() -> int:
    """Escalate overdue incident tasks (compare-and-set claims; safe with several workers)."""
    return sweeps.tasks_sweep(now=clock.now())


@db_periodic_task(crontab(minute="*"))
def log_incident_hours() -> int:
    """Write each finished hour's count of new linked complaints to the incident timelines."""
    return sweeps.hours_log(now=clock.now())


@db_periodic_task(crontab(minute="*"))
def catch_up_warnings() -> int:
    """Open the incidents of warnings whose queued job was lost (broker outage, crash)."""
    return services.warnings_catch_up(now=clock.now())
