"""A regrade that makes another policy match re-plans the running stages' deadlines."""

import time_machine

from kuaixiang.complaints.models import ComplaintEvent
from kuaixiang.complaints.services import complaint_regrade, complaint_transition
from kuaixiang.sla.models import ComplaintStage
from kuaixiang.sla.services import escalations_sweep
from tests.personas import register
from tests.sla.conftest import eod, sh
from tests.sla.policies import make_policy

MON = sh(2025, 10, 13, 10, 0)  # a working Monday
TUE = sh(2025, 10, 14, 10, 0)


def _stages(complaint) -> dict[str, ComplaintStage]:
    return {s.stage: s for s in ComplaintStage.objects.filter(complaint=complaint)}


def _policies():
    general = make_policy("general", targets={"acceptance": (1, "working_days"), "closure": (15, "natural_days")})
    major = make_policy(
        "major",
        priority=10,
        severities=["major"],
        targets={"acceptance": (2, "working_hours"), "closure": (3, "natural_days")},
    )
    return general, major


def test_raising_to_major_takes_the_major_policys_shorter_limits_from_the_stage_start(org):
    general, major = _policies()
    with time_machine.travel(MON, tick=False):
        complaint = register(org.agent)
    before = _stages(complaint)
    assert {s.policy_id for s in before.values()} == {general.pk}
    assert before["acceptance"].due_at == eod(2025, 10, 14)  # 1 working day: the end of the next

    with time_machine.travel(sh(2025, 10, 13, 11, 0), tick=False):
        complaint_regrade(complaint_id=complaint.pk, actor=org.agent, data={"severity": "major"})

    after = _stages(complaint)
    assert {s.policy_id for s in after.values()} == {major.pk}
    assert after["acceptance"].due_at == sh(2025, 10, 13, 12, 0)  # 2 working hours from 10:00
    assert after["closure"].due_at == eod(2025, 10, 16)  # 3 natural days
    assert after["acceptance"].target.policy_id == major.pk and after["acceptance"].warn_at < after["acceptance"].due_at
    complaint.refresh_from_db()
    assert complaint.due_at == sh(2025, 10, 13, 12, 0)
    (event,) = ComplaintEvent.objects.filter(complaint=complaint, action="regrade")
    assert sorted(event.payload["replanned"]) == ["acceptance", "closure"]

    # the shorter deadline is the one the sweep escalates on
    with time_machine.travel(sh(2025, 10, 13, 12, 1), tick=False):
        fired = escalations_sweep(now=sh(2025, 10, 13, 12, 1))
    assert after["acceptance"].pk in {e.stage_id for e in fired}


def test_paused_time_still_counts_and_completed_stages_stay(org):
    _, major = _policies()
    with time_machine.travel(MON, tick=False):
        complaint = register(org.agent)
    ComplaintStage.objects.filter(complaint=complaint, stage="closure").update(paused_seconds=3600)
    with time_machine.travel(sh(2025, 10, 13, 10, 30), tick=False):
        complaint_transition(complaint_id=complaint.pk, action="accept", actor=org.agent)
    accepted = _stages(complaint)["acceptance"]
    assert accepted.completed_at is not None

    with time_machine.travel(TUE, tick=False):
        complaint_regrade(complaint_id=complaint.pk, actor=org.agent, data={"severity": "major"})

    after = _stages(complaint)
    assert after["acceptance"].policy_id == accepted.policy_id and after["acceptance"].due_at == accepted.due_at
    assert after["closure"].policy_id == major.pk
    assert after["closure"].due_at == sh(2025, 10, 17, 0, 59, 59)  # 3 days from Monday, plus the paused hour


def test_a_regrade_the_same_policy_still_matches_changes_no_deadline(org):
    make_policy("general")
    with time_machine.travel(MON, tick=False):
        complaint = register(org.agent)
    before = {name: (s.policy_id, s.due_at, s.next_check_at) for name, s in _stages(complaint).items()}
    with time_machine.travel(TUE, tick=False):
        complaint_regrade(complaint_id=complaint.pk, actor=org.agent, data={"severity": "major"})
    assert {name: (s.policy_id, s.due_at, s.next_check_at) for name, s in _stages(complaint).items()} == before
    (event,) = ComplaintEvent.objects.filter(complaint=complaint, action="regrade")
    assert "replanned" not in event.payload


def test_the_timeline_says_which_deadlines_were_recomputed(org, client):
    _policies()
    with time_machine.travel(MON, tick=False):
        complaint = register(org.agent)
        complaint_regrade(complaint_id=complaint.pk, actor=org.agent, data={"severity": "major"})
    client.force_login(org.agent)
    page = client.get(f"/complaints/{complaint.pk}/").content.decode()
    assert "按新的时限策略重算：受理决定、办结" in page
