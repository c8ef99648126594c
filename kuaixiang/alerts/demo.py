"""Demo data for the early-warning screens: a surge of near-identical complaints registered today
through the normal intake path, so the count, cluster and board figures come from real rules."""

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model

from kuaixiang import clock
from kuaixiang.complaints.intake import parse_complaint_input
from kuaixiang.triage.models import Category

SURGE = 36  # above the telecom pack's level-1 threshold (30 a day on one level-5 category)
TEXT = "幸福小区{}号楼室内信号很差，手机经常显示无服务，打电话断断续续听不清，已经持续一周"


def demo_surge(*, now: datetime, agent_username: str = "agent", category_code: str = "net-mob-cov-4g-indoor") -> int:
    """Register ``SURGE`` complaints over the last hour on one level-5 category; return how many.
    Does nothing when the agent or the category is missing."""
    from kuaixiang.complaints.services import complaint_register_bulk

    agent = get_user_model().objects.filter(username=agent_username).first()
    category = Category.objects.filter(code=category_code).first()
    if agent is None or category is None:
        return 0
    done = 0
    for i in range(SURGE):
        at = now - timedelta(minutes=SURGE - i)
        data = parse_complaint_input(
            {
                "channel": "phone" if i % 3 else "wechat",
                "complainant_phone": f"1390000{i:04d}",
                "received_at": at.isoformat(),
                "description": TEXT.format(i % 12 + 1),
                "category_id": category.pk,
            }
        )
        with clock.frozen(at):
            complaint_register_bulk(actor=agent, items=[data])
        done += 1
    return done


def alerts_reset() -> None:
    """Delete warnings, counters, series, clusters and detector states (rules stay): the demo's
    reset, so a new demo does not add to the counts of a deleted one."""
    from kuaixiang.alerts.models import Cluster, DetectorState, HourlyCount, Warning, WarningCounter

    Warning.objects.all().delete()
    WarningCounter.objects.all().delete()
    HourlyCount.objects.all().delete()
    Cluster.objects.all().delete()
    DetectorState.objects.all().delete()
