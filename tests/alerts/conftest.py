import pytest

from kuaixiang.alerts.models import WarningRule
from tests.api.conftest import api_as  # noqa: F401  (fixture)


def make_rule(code="leaf-day", **fields) -> WarningRule:
    values = {
        "name": "分类单日投诉量",
        "group_by": "category",
        "window_kind": "calendar_day",
        "measure": "new",
        "condition": "threshold",
        "levels": [
            {"level": 1, "at": 3, "notify": [{"role": "manager", "function": "complaint_centre"}]},
            {
                "level": 3,
                "at": 5,
                "duty": True,
                "notify": [
                    {"role": "leader", "function": "leadership"},
                    {"role": "manager", "function": "complaint_centre"},
                ],
            },
        ],
        **fields,
    }
    return WarningRule.objects.create(code=code, **values)


@pytest.fixture
def rule(org):
    return make_rule()
