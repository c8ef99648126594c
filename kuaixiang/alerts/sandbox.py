"""The sandbox organisation (演练沙箱): where replays and drills register complaints.

It is a separate branch-level tree (code ``sandbox``, departments ``sandbox-*``) with its own staff
(users ``sandbox-*`` without e-mail addresses), so its complaints stay out of every real
department's scope, its warnings use the sandbox copies of the rules (``WarningRule.sandbox``) and
its notifications stay in the sandbox staff's in-app inboxes. Other apps call
:func:`sandbox_build`, :func:`sandbox_empty` and :func:`sandbox_agent`.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from kuaixiang.cascade import cascade_delete
from kuaixiang.org.models import Department, Staff
from kuaixiang.org.roles import Role
from kuaixiang.org.scope import SANDBOX_CODE

Function = Department.Function

# (code suffix, name, function, roles)
DEPARTMENTS = (
    ("centre", "沙箱客服中心", Function.COMPLAINT_CENTRE, (Role.AGENT, Role.LEAD, Role.MANAGER)),
    ("network", "沙箱网络部", Function.NETWORK, (Role.HEAD, Role.HANDLER)),
    ("business", "沙箱业务支撑部", Function.BUSINESS_SUPPORT, (Role.HEAD, Role.HANDLER)),
    ("quality", "沙箱质量管理部", Function.QUALITY, (Role.HEAD, Role.HANDLER)),
    ("pr", "沙箱公关部", Function.PR, (Role.PR,)),
    ("leaders", "沙箱领导小组", Function.LEADERSHIP, (Role.LEADER,)),
)


def sandbox_root() -> Department | None:
    return Department.objects.filter(code=SANDBOX_CODE).first()


@transaction.atomic
def sandbox_build() -> Department:
    """Create (or complete) the sandbox organisation and its staff; return its root. Idempotent."""
    root, _ = Department.objects.get_or_create(
        code=SANDBOX_CODE, defaults={"name": "演练沙箱", "level": Department.Level.BRANCH, "function": Function.GENERAL}
    )
    users = get_user_model().objects
    for suffix, name, function, roles in DEPARTMENTS:
        dept, _ = Department.objects.get_or_create(
            code=f"{SANDBOX_CODE}-{suffix}",
            defaults={"name": name, "parent": root, "level": Department.Level.DEPARTMENT, "function": function},
        )
        for role in roles:
            username = f"{SANDBOX_CODE}-{suffix}-{role}"
            user = users.filter(username=username).first()
            if user is None:
                user = users.create_user(username=username, email="", first_name=f"沙箱{Role(role).label}")
                user.set_unusable_password()
                user.save(update_fields=["password"])
            Staff.objects.get_or_create(user=user, defaults={"department": dept, "role": role})
    return root


def sandbox_agent():
    """The sandbox agent who registers replayed complaints (building the sandbox if needed)."""
    sandbox_build()
    return get_user_model().objects.get(username=f"{SANDBOX_CODE}-centre-{Role.AGENT}")


@transaction.atomic
def sandbox_empty() -> int:
    """Delete the sandbox's complaints, warnings, counters, detector states, clusters and series;
    return the number of complaints deleted. Rules and staff stay."""
    from kuaixiang.alerts.models import Cluster, CounterMember, DetectorState, HourlyCount, Warning, WarningCounter
    from kuaixiang.complaints.models import Complaint
    from kuaixiang.notify.models import Notification

    root = sandbox_root()
    if root is None:
        return 0
    Warning.objects.filter(sandbox=True).delete()
    WarningCounter.objects.filter(rule__sandbox=True).delete()
    CounterMember.objects.filter(rule__sandbox=True).delete()
    DetectorState.objects.filter(rule__sandbox=True).delete()
    Cluster.objects.filter(sandbox=True).delete()
    HourlyCount.objects.filter(sandbox=True).delete()
    Notification.objects.filter(recipient__staff__department__path__startswith=root.path).delete()
    complaints = Complaint.objects.filter(intake_department__path__startswith=root.path)
    return cascade_delete(complaints)
