"""Drill fixtures: the shipped playbooks, the telecom alert rules, and a frozen start time."""

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings

from kuaixiang.rulepacks import rulepack_load
from tests.api.conftest import api_as  # noqa: F401  (fixture)

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)  # a Tuesday morning


@pytest.fixture
def playbooks(db):
    for pack in ("telecom", "property"):
        rulepack_load(Path(settings.BASE_DIR) / "rulepacks" / pack / "playbooks.yaml")


@pytest.fixture
def drill_org(org, playbooks):
    return org


SMALL = {"kind": "synthetic", "burst": 110, "burst_minutes": 30, "background_per_hour": 5, "hours": 1, "seed": 7}
