"""Demo data: one active crisis incident with its tasks, a published script and branch roll-up."""

from datetime import datetime, timedelta

from kuaixiang import clock
from kuaixiang.complaints.models import Complaint
from kuaixiang.crisis import branches, links, scripts, services, sweeps
from kuaixiang.crisis.models import IncidentComplaint, Playbook
from kuaixiang.triage.models import Category

DEMO_CATEGORY = "net-mob-cov-4g-indoor"
DEMO_SCRIPT = (
    "您好，近期部分小区因 4G 室内覆盖设备故障出现信号弱、通话中断，我们已于今日安排抢修，"
    "预计 2 小时内恢复。对受影响用户，本月赠送 10GB 国内流量，无需办理。给您带来不便，深表歉意。"
)


def crisis_demo_seed(*, logins: dict, now: datetime | None = None) -> dict:
    """Open the demo incident (telecom_crisis, 90 minutes ago) on the demo surge's category, link its
    complaints of the last two hours, publish a script (PR drafts, the leader approves) and push it to
    the branches. Return counts for the seed summary; nothing when the playbook or category is absent."""
    now = now or clock.now()
    category = Category.objects.filter(code=DEMO_CATEGORY).first()
    if category is None or not Playbook.objects.filter(code="telecom_crisis", active=True).exists():
        return {"incidents": 0}
    admin, pr, leader = logins["admin"], logins["pr"], logins["leader"]
    start = now - timedelta(minutes=90)
    with clock.frozen(start):
        incident = services.incident_open(
            playbook="telecom_crisis",
            title="4G 室内信号弱批量投诉",
            severity="red",
            description="多个小区用户反映室内 4G 信号弱、通话中断，投诉量一小时内快速上升。",
            actor=admin,
            match_category=category,
        )
    recent = Complaint.objects.filter(
        category__path__startswith=category.path, received_at__gte=now - timedelta(hours=2)
    ).only("pk", "received_at", "intake_department_id")
    links.links_add(incident, recent, source=IncidentComplaint.Source.WARNING, now=start)
    with clock.frozen(now - timedelta(minutes=60)):
        draft = scripts.script_draft(incident_id=incident.pk, actor=pr, content=DEMO_SCRIPT)
    with clock.frozen(now - timedelta(minutes=50)):
        scripts.script_approve(incident_id=incident.pk, actor=leader, number=draft.number)
        scripts.script_publish(incident_id=incident.pk, actor=leader, number=draft.number)
    with clock.frozen(now - timedelta(minutes=45)):
        pushed = branches.incident_push_branches(incident_id=incident.pk, actor=admin)
    sweeps.hours_log(now=now)
    incident.refresh_from_db()
    return {"incidents": 1 + len(pushed), "linked": incident.linked_count}


def crisis_demo_reset() -> int:
    """Delete every incident (before the demo's people and departments go); return how many."""
    from kuaixiang.crisis.models import Incident

    count = Incident.objects.count()
    Incident.objects.filter(parent__isnull=False).delete()
    Incident.objects.all().delete()
    return count
