"""Build, detect and wipe the demo data set (organisation, logins, categories, complaints)."""

import random
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction

from kuaixiang import clock
from kuaixiang.complaints.models import Complaint, DailySequence
from kuaixiang.demo.complaints import SeedStats, complaints_seed
from kuaixiang.demo.organisation import DEMO_USERNAMES, DemoOrg, organisation_build
from kuaixiang.notify.models import Notification
from kuaixiang.org.models import Department, Staff
from kuaixiang.triage.rulepack import LoadResult, rulepack_load

TELECOM_PACK = Path(settings.BASE_DIR) / "rulepacks" / "telecom.yaml"


@dataclass
class SeedResult:
    org: DemoOrg
    categories: LoadResult
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
    Notification.objects.all().delete()
    Complaint.objects.exclude(merged_into=None).update(merged_into=None)
    Complaint.objects.all().delete()
    DailySequence.objects.all().delete()
    staff_users = Staff.objects.values_list("user_id", flat=True)
    User = get_user_model()
    User.objects.filter(pk__in=list(staff_users)).delete()
    User.objects.filter(username__in=DEMO_USERNAMES).delete()
    for department in sorted(Department.objects.all(), key=lambda d: -d.depth):
        department.delete()


@transaction.atomic
def demo_seed(*, password: str, complaints: int = 2000, days: int = 30, seed: int = 20261122) -> SeedResult:
    """Build the demo organisation, load the telecom categories and ``complaints`` complaints
    received over the last ``days`` days, in one transaction (a failure leaves nothing)."""
    started = time.monotonic()
    rng = random.Random(seed)
    now = clock.now()
    categories = rulepack_load(TELECOM_PACK)
    org = organisation_build(password_hash=make_password(password), rng=rng)
    stats = complaints_seed(org, count=complaints, days=days, rng=rng, now=now) if complaints else SeedStats()
    return SeedResult(org, categories, stats, time.monotonic() - started)
