"""The ``playbooks:`` rule-pack section: shipped plans load, reload unchanged, bad input names its node."""

import pytest

from kuaixiang.crisis.models import Playbook, PlaybookStep
from kuaixiang.rulepacks import RulepackError, rulepack_load_text
from tests.crisis.conftest import PACKS

MINIMAL = """
playbooks:
  - code: demo_plan
    name: 演示预案
    activation: {warning_level: 2}
    roles:
      team: {label: 投诉组, staff_roles: [manager]}
    steps:
      - {key: report, title: 上报, due: {after: 1, unit: clock_hours}, owner: team}
"""


def test_the_four_shipped_playbooks_load_with_their_steps(playbooks):
    codes = set(Playbook.objects.values_list("code", flat=True))
    assert codes == {"telecom_crisis", "property_major", "public_opinion", "school_media"}
    telecom = Playbook.objects.get(code="telecom_crisis")
    assert telecom.min_warning_level == 3 and "government" in telecom.flags
    steps = {s.key: s for s in telecom.steps.all()}
    assert (steps["initial_report"].amount, steps["initial_report"].unit) == (1, "clock_hours")
    assert (steps["special_report"].amount, steps["special_report"].unit, steps["special_report"].anchor) == (
        3,
        "working_days",
        "close",
    )
    assert steps["initial_report"].notify_roles == ["complaint_team", "pr", "leaders"]
    report = PlaybookStep.objects.get(playbook__code="public_opinion", key="investigation_report")
    assert report.amount_by_severity == {"blue": 120, "yellow": 72, "orange": 24, "red": 24}
    major = {s.key: s for s in Playbook.objects.get(code="property_major").steps.all()}
    assert (major["reply"].amount, major["reply"].unit) == (24, "clock_hours")
    assert (major["resolve"].amount, major["resolve"].unit) == (3, "natural_days")


def test_loading_again_changes_nothing(playbooks):
    from pathlib import Path

    from django.conf import settings

    from kuaixiang.rulepacks import rulepack_load

    for pack in PACKS:
        result = rulepack_load(Path(settings.BASE_DIR) / "rulepacks" / pack / "playbooks.yaml")
        assert (result["playbooks"].created, result["playbooks"].updated, result["playbooks"].unchanged) == (0, 0, 1)


def test_the_telecom_pack_loads_the_playbooks_with_its_other_sections(db):
    from kuaixiang.rulepacks import rulepack_load

    result = rulepack_load("telecom")
    assert result["playbooks"].created == 1
    assert Playbook.objects.filter(code="telecom_crisis", active=True).exists()


def test_an_edited_step_updates_the_version_in_place(db):
    rulepack_load_text(MINIMAL)
    result = rulepack_load_text(MINIMAL.replace("after: 1", "after: 2"))
    assert result["playbooks"].updated == 1
    assert PlaybookStep.objects.get(key="report").amount == 2


@pytest.mark.parametrize(
    ("broken", "where"),
    [
        (MINIMAL.replace("owner: team", "owner: nobody"), "steps[0]"),
        (MINIMAL.replace("unit: clock_hours", "unit: fortnights"), "steps[0]"),
        (MINIMAL.replace("staff_roles: [manager]", "staff_roles: [king]"), "roles.team"),
        (MINIMAL.replace("warning_level: 2", "warning_level: 7"), "activation"),
        (MINIMAL.replace("after: 1", "after: 1, from: lunch"), "steps[0]"),
        (MINIMAL.replace("name: 演示预案", "name: 演示预案\n    colour: red"), "playbooks[0]"),
        ("playbooks: {code: x}", "playbooks"),
    ],
)
def test_a_broken_playbook_is_refused_naming_its_node_and_nothing_is_written(db, broken, where):
    with pytest.raises(RulepackError) as caught:
        rulepack_load_text(broken, source="plan.yaml")
    assert where in caught.value.details["at"] or where in caught.value.message
    assert "plan.yaml" in caught.value.message
    assert not Playbook.objects.exists()
