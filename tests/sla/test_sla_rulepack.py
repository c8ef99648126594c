"""The telecom rule pack's `sla:` section becomes policy versions; loading twice changes nothing."""

from textwrap import dedent

import pytest
import time_machine
from django.core.management import call_command

from kuaixiang.rulepacks import RulepackError, rulepack_load, rulepack_load_text
from kuaixiang.sla.models import ComplaintStage, SlaPolicy
from kuaixiang.triage.models import Category
from tests.lifecycle_paths import complaint_in
from tests.sla.conftest import sh

TELECOM = "telecom"


@pytest.mark.django_db
def test_the_telecom_pack_loads_its_policies_idempotently(capsys):
    call_command("load_rulepack", str(TELECOM))
    call_command("load_rulepack", str(TELECOM))
    out = capsys.readouterr().out.splitlines()
    total = SlaPolicy.objects.count()
    assert total >= 5
    assert f"时限策略 {total} 个（新增 {total}" in out[0]
    assert f"未变 {total}）" in out[1]
    default = SlaPolicy.objects.get(code="telecom-default", version=1)
    network = default.targets.get(stage="department_return", department_function="network")
    assert (network.amount, network.unit) == (6, "clock_hours")
    assert [s.level for s in default.ladder.all()] == [1, 2, 3, 4]
    letter = SlaPolicy.objects.get(code="telecom-letter")
    assert letter.targets.get(stage="reply").amount == 7
    assert letter.targets.count() == default.targets.count()  # extends copies the rest
    group = SlaPolicy.objects.get(code="telecom-group-customers")
    assert group.category == Category.objects.get(code="ent-group")


def test_the_network_department_returns_within_six_hours(org):
    rulepack_load(TELECOM)
    with time_machine.travel(sh(2025, 10, 13, 10, 0), tick=False):
        complaint = complaint_in(org, "dispatched")
    stage = ComplaintStage.objects.get(complaint=complaint, stage="department_return")
    assert stage.policy.code == "telecom-default"
    assert stage.due_at == sh(2025, 10, 13, 16, 0)


@pytest.mark.django_db
def test_a_bad_sla_section_changes_nothing():
    pack = dedent(
        """
        categories:
          - {code: net, name: 网络}
        sla:
          policies:
            - code: p
              effective_from: 2025-01-01
              targets:
                reply: {amount: 1.5, unit: working_days}
        """
    )
    with pytest.raises(RulepackError, match="整数"):
        rulepack_load_text(pack)
    assert not Category.objects.exists() and not SlaPolicy.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("intents: [angry]", "intents"),
        ("difficulties: [easy]", "difficulties"),
        ("flags: [not a name]", "flags"),
        ("flags: upstream", "flags"),
    ],
)
def test_bad_match_keys_are_refused(line, message):
    pack = dedent(
        f"""
        sla:
          policies:
            - code: p
              effective_from: 2025-01-01
              {line}
              targets:
                reply: {{amount: 1, unit: working_days}}
        """
    )
    with pytest.raises(RulepackError, match=message):
        rulepack_load_text(pack)
    assert not SlaPolicy.objects.exists()


@pytest.mark.django_db
def test_match_keys_pause_rules_and_digest_are_loaded():
    pack = dedent(
        """
        sla:
          policies:
            - code: p
              effective_from: 2025-01-01
              intents: [suggestion]
              difficulties: [complex]
              flags: [campus]
              pause_reasons: {test: [reply], customer: ["*"]}
              digest: true
              targets:
                reply: {amount: 1, unit: working_days}
        """
    )
    rulepack_load_text(pack)
    policy = SlaPolicy.objects.get(code="p")
    assert (policy.intents, policy.difficulties, policy.flags) == (["suggestion"], ["complex"], ["campus"])
    assert policy.pause_reasons == {"test": ["reply"], "customer": ["*"]} and policy.digest
