import importlib

import pytest
from django.apps import apps

from tests.personas import build_org

_DEFAULT_CALENDAR = importlib.import_module("kuaixiang.sla.migrations.0002_default_calendar")


@pytest.fixture(autouse=True)
def migrated_data(request):
    """Tests on ``transactional_db`` flush every table afterwards, including the default calendar
    `cn` a data migration creates; put it back first so each test sees a freshly migrated database."""
    if "transactional_db" in request.fixturenames:
        request.getfixturevalue("transactional_db")
        _DEFAULT_CALENDAR.create_default(apps, None)


@pytest.fixture
def org(db):
    return build_org()
