"""Build, detect and wipe the demo data set (organisation, logins, categories, complaints)."""

import random
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction

from kuaixiang import clock
from kuaixiang.alerts.demo import SURGE, alerts_reset, demo_surge
from kuaixiang.complaints.models import Complaint, DailySequence
from kuaixiang.demo.complaints import Generator, register_all
from kuaixiang.demo.lifecycle import SeedStats, Simulation, choose_walked
from kuaixiang.demo.organisation import DEMO_USERNAMES, DemoOrg, organisation_build
from kuaixiang.notify.models import Notification
from kuaixiang.notify.services import inbox_mark_read
from kuaixiang.org.models import Department, Staff
from kuaixiang.rulepacks import PackResult, rulepack_load
from kuaixiang.sla.services import escalations_sweep

TELECOM_PACK = "telecom"
# Loaded too, so their categories and time limits can be tried; their policies only time complaints in their own trees.
OTHER_PACKS = ("property", "regulator_12315", "factory", "school")
DEFAULT_SEED = 20261122
# Each lifecycle action is about ten queries (5–7 ms of CPU on a small 2-core machine)
# through the real service; this many per complaint keeps 2,000 complaints to about 40 s
# on SQLite there. Raise it with --transitions for a fuller history.
DEFAULT_ACTIONS_PER_COMPLAINT = 2


@dataclass
class SeedResult:
    org: DemoOrg
    rulepack: PackResult
    stats: SeedStats
    seconds: float


def demo_password(explicit: str | None) -> tuple[str, bool]:
    """Return (password, generated): ``explicit`` (DEMO_PASSWORD) or a fresh random one."""
    if explicit:
        return explicit, False
    return secrets.token_urlsafe(9), True


def demo_exists() -> bool:
    """True when the database already holds an organisation or complaints (demo or not)."""
    return Department.objects.exists() or Complaint.objects.exists()


def demo_set_password(password: str) -> int:
    """Give the demo logins ``password`` (hashed once); return how many accounts changed."""
    encoded = make_password(password)
    return get_user_model().objects.filter(username__in=DEMO_USERNAMES).update(password=encoded)


@transaction.atomic
def demo_reset() -> None:
    """Delete complaints, notifications, the organisation and its staff accounts.

    Categories stay: loading the rule pack again is idempotent.
    """
    from kuaixiang.remedies.demo import remedies_demo_reset

    remedies_demo_reset()
    from kuaixiang.crisis.demo import crisis_demo_reset

    crisis_demo_reset()
    Notification.objects.all().delete()
    alerts_reset()
    Complaint.objects.exclude(merged_into=None).update(merged_into=None)
    Complaint.objects.all().delete()
    DailySequence.objects.all().delete()
    staff_users = Staff.objects.values_list("user_id", flat=True)
    User = get_user_model()
    User.objects.filter(pk__in=list(staff_users)).delete()
    User.objects.filter(username__in=DEMO_USERNAMES).delete()
    for department in sorted(Department.objects.all(), key=lambda d: -d.depth):
        department.delete()


def complaints_seed(
    org: DemoOrg, *, count: int, days: int, transitions: int, rng: random.Random, now: datetime
) -> SeedStats:
    """Register ``count`` complaints received over the last ``days`` days and play about
    ``transitions`` lifecycle actions on them."""
    stats = SeedStats()
    started = time.monotonic()
    drafts = Generator(org, rng, now, days).drafts(count)
    stats.complaints = register_all(drafts)
    stats.intake_seconds = time.monotonic() - started
    walked = choose_walked(drafts, now=now, budget=transitions, rng=rng)
    Simulation(org, rng, now, stats).run(walked)
    stats.lifecycle_seconds = time.monotonic() - started - stats.intake_seconds
    return stats


def inbox_age(*, now: datetime, unread_for: timedelta = timedelta(days=1)) -> None:
    """Mark in-app messages older than ``unread_for`` as read, as their readers would have."""
    old = Notification.objects.filter(
        channel=Notification.Channel.INBOX, read_at__isnull=True, created_at__lt=now - unread_for
    )
    for user_id in old.values_list("recipient_id", flat=True).distinct():
        user = get_user_model()(pk=user_id)
        ids = list(old.filter(recipient_id=user_id).values_list("pk", flat=True))
        inbox_mark_read(user=user, notification_ids=ids)


@transaction.atomic
def demo_seed(
    *,
    password: str,
    complaints: int = 2000,
    days: int = 30,
    transitions: int | None = None,
    seed: int = DEFAULT_SEED,
) -> SeedResult:
    """Build the demo organisation, load the telecom categories and ``complaints`` complaints
    received over the last ``days`` days, in one transaction (a failure leaves nothing).

    ``transitions`` caps the lifecycle actions played (default: ``DEFAULT_ACTIONS_PER_COMPLAINT``
    per complaint)."""
    started = time.monotonic()
    rng = random.Random(seed)
    now = clock.now()
    rulepack = rulepack_load(TELECOM_PACK)
    for name in OTHER_PACKS:
        rulepack_load(name)
    org = organisation_build(password_hash=make_password(password), rng=rng)
    stats = SeedStats()
    if complaints:
        budget = transitions if transitions is not None else DEFAULT_ACTIONS_PER_COMPLAINT * complaints
        # A surge of similar complaints today (part of the total), so the warnings and the monitoring
        # board have content; small seeds leave it out.
        surge = SURGE if complaints >= 10 * SURGE else 0
        stats = complaints_seed(org, count=complaints - surge, days=days, transitions=budget, rng=rng, now=now)
        inbox_age(now=now)
        if surge:
            stats.complaints += demo_surge(now=now)
        # Fire the escalations the demo's history has made due, so the supervision board shows levels.
        while escalations_sweep(now=now, limit=1000):
            pass
        # A few refunds/compensations (approved, pending in a chain, executed) and one 8D report.
        from kuaixiang.remedies.demo import remedies_demo_seed

        remedies_demo_seed(logins=org.logins)
        # One active crisis incident (seed 000 playbook) on today's surge, with a published script.
        from kuaixiang.crisis.demo import crisis_demo_seed

        crisis_demo_seed(logins=org.logins, now=now)
    return SeedResult(org, rulepack, stats, time.monotonic() - started)
