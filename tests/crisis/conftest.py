"""Crisis fixtures: the shipped playbooks loaded from the rule packs, and helpers."""

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings

from kuaixiang.rulepacks import rulepack_load

SHANGHAI = ZoneInfo("Asia/Shanghai")
PACKS = ("telecom", "property", "regulator_12315", "school")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture
def playbooks(db):
    """Every shipped playbooks.yaml (only that section of each pack)."""
    for pack in PACKS:
        rulepack_load(Path(settings.BASE_DIR) / "rulepacks" / pack / "playbooks.yaml")


@pytest.fixture
def crisis_org(org, playbooks):
    return org
