"""A suspension stops only the clocks its reason names in the policy (等待客户、检测、鉴定)."""

from textwrap import dedent

import pytest
import time_machine

from kuaixiang.complaints.models import Complaint
from kuaixiang.complaints.services import complaint_transition
from kuaixiang.errors import InvalidInput
from kuaixiang.rulepacks import RulepackError, rulepack_load_text
from kuaixiang.sla.models import ComplaintStage, SlaPolicy
from kuaixiang.sla.services import escalations_sweep
from tests.api.conftest import ApiClient, issue_token
from tests.lifecycle_paths import complaint_in
from tests.sla.conftest import sh
from tests.sla.policies import make_policy

MON = sh(2025, 10, 13, 10, 0)
RULES = {"customer": ["*"], "test": ["department_return"], "appraisal": ["department_return", "closure"]}


def processing(org, **fields):
    make_policy(pause_reasons=RULES, **fields)
    with time_machine.travel(MON, tick=False):
        return complaint_in(org, "processing")


ELEVEN = sh(2025, 10, 13, 11, 0)


def suspend(org, complaint, reason: str | None, at=ELEVEN):
    data = {"reason": "等待"} | ({"pause_reason": reason} if reason else {})
    with time_machine.travel(at, tick=False):
        complaint_transition(complaint_id=complaint.pk, action="suspend", actor=org.lead, data=data)


def paused(complaint) -> set[str]:
    return set(
        ComplaintStage.objects.filter(complaint=complaint, paused_at__isnull=False).values_list("stage", flat=True)
    )


def test_waiting_for_a_test_stops_only_the_named_stage(org):
    complaint = processing(org)
    suspend(org, complaint, "test")
    assert paused(complaint) == {"department_return"}
    reply = ComplaintStage.objects.get(complaint=complaint, stage="reply")
    assert Complaint.objects.get(pk=complaint.pk).due_at == reply.due_at  # the reply clock keeps running
    with time_machine.travel(sh(2025, 10, 13, 14, 0), tick=False):
        complaint_transition(complaint_id=complaint.pk, action="resume", actor=org.lead, data={})
    stage = ComplaintStage.objects.get(complaint=complaint, stage="department_return")
    assert stage.paused_seconds == 5400 and stage.due_at == sh(2025, 10, 13, 17, 0)
    assert ComplaintStage.objects.get(pk=reply.pk).paused_seconds == 0
    assert Complaint.objects.get(pk=complaint.pk).due_at == sh(2025, 10, 13, 17, 0)


def test_waiting_for_the_customer_stops_every_clock(org):
    complaint = processing(org)
    suspend(org, complaint, "customer")
    assert paused(complaint) == {"department_return", "reply", "closure"}
    assert Complaint.objects.get(pk=complaint.pk).due_at is None


def test_appraisal_pauses_its_stages_and_the_others_still_escalate(org):
    complaint = processing(org)
    suspend(org, complaint, "appraisal")
    assert paused(complaint) == {"department_return", "closure"}
    escalations_sweep(now=sh(2025, 10, 20, 12, 0))  # reply (5 working days) past its warning point
    levels = dict(ComplaintStage.objects.filter(complaint=complaint).values_list("stage", "escalation_level"))
    assert levels["department_return"] == 0 and levels["reply"] >= 1


def test_an_unlisted_reason_follows_pause_on_suspend(org):
    complaint = processing(org, pause_on_suspend=False)
    suspend(org, complaint, "other")
    assert paused(complaint) == set()
    other = processing_again(org)
    suspend(org, other, None)  # no category given: "other"
    assert paused(other) == set()
    policy = SlaPolicy.objects.get()
    policy.pause_on_suspend = True
    policy.save()
    third = processing_again(org)
    suspend(org, third, "other")
    assert paused(third) == {"department_return", "reply", "closure"}


def processing_again(org):
    with time_machine.travel(MON, tick=False):
        return complaint_in(org, "processing")


def test_a_bad_reason_is_refused_and_changes_nothing(org):
    complaint = processing(org)
    with pytest.raises(InvalidInput):
        suspend(org, complaint, "holiday")
    assert Complaint.objects.get(pk=complaint.pk).status == "processing" and paused(complaint) == set()
    api = ApiClient(issue_token(org.lead.username))
    response = api.post(f"/complaints/{complaint.pk}/actions/suspend", {"reason": "等待", "pause_reason": "x"})
    assert response.status_code == 400, response.content


def test_the_api_suspends_with_a_reason_category(org):
    complaint = processing(org)
    api = ApiClient(issue_token(org.lead.username))
    with time_machine.travel(sh(2025, 10, 13, 11, 0), tick=False):
        response = api.post(f"/complaints/{complaint.pk}/actions/suspend", {"reason": "送检", "pause_reason": "test"})
    assert response.status_code == 200, response.content
    assert paused(complaint) == {"department_return"}
    with time_machine.travel(sh(2025, 10, 13, 14, 0), tick=False):
        api.post(f"/complaints/{complaint.pk}/actions/resume", {})
        body = api.get(f"/complaints/{complaint.pk}").json()
    stages = {s["stage"]: s for s in body["stages"]}
    assert stages["department_return"]["paused_seconds"] == 5400 and stages["reply"]["paused_seconds"] == 0


@pytest.mark.django_db
def test_the_pack_parser_checks_pause_rules():
    pack = dedent(
        """
        sla:
          policies:
            - code: p
              effective_from: 2025-01-01
              pause_reasons: {holiday: ["*"]}
              targets:
                reply: {amount: 1, unit: working_days}
        """
    )
    with pytest.raises(RulepackError, match="pause_reasons"):
        rulepack_load_text(pack)
    with pytest.raises(RulepackError, match="pause_reasons"):
        rulepack_load_text(pack.replace("holiday", "test").replace('"*"', "nowhere"))
    assert not SlaPolicy.objects.exists()


@pytest.mark.parametrize("rules", [{"holiday": ["*"]}, {"test": "reply"}, {"test": ["nowhere"]}, ["customer"]], ids=str)
def test_the_admin_refuses_bad_pause_rules(rules):
    from django.core.exceptions import ValidationError

    policy = SlaPolicy(code="p", name="p", effective_from=MON, pause_reasons=rules)
    with pytest.raises(ValidationError) as caught:
        policy.clean()
    assert "pause_reasons" in caught.value.message_dict


def test_paused_stages_of_a_policy():
    policy = SlaPolicy(pause_reasons=RULES, pause_on_suspend=False)
    assert policy.paused_stages("test") == {"department_return"}
    assert policy.paused_stages("other") == set()
    assert SlaPolicy(pause_reasons={}, pause_on_suspend=True).paused_stages("customer") == {"*"}
