"""complaint_transition: every role × every action from every state where the action is valid,
wrong states, department limits, payload errors — and a refused action changes nothing."""

import pytest
from django.db import transaction

from kuaixiang.complaints.lifecycle import DEPARTMENT, TRANSITIONS, State
from kuaixiang.complaints.models import Complaint, ComplaintEvent
from kuaixiang.complaints.services import allowed_actions, complaint_transition
from kuaixiang.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from kuaixiang.notify.models import Notification
from kuaixiang.org.roles import Role
from tests.lifecycle_paths import PATHS, complaint_in, extra_staff, payload_for
from tests.personas import register

ROLES = [r.value for r in Role]
PAIRS = [(action, state) for action, t in TRANSITIONS.items() for state in State if state in t.sources]


def snapshot(complaint_id: int) -> tuple:
    return (
        Complaint.objects.filter(pk=complaint_id).values().get(),
        ComplaintEvent.objects.filter(complaint_id=complaint_id).count(),
        Notification.objects.count(),
    )


def attempt(complaint: Complaint, action: str, actor, data: dict) -> tuple[int, str] | Complaint:
    """Try ``action`` inside a savepoint that is always rolled back.

    Return the changed complaint, or (status, code) of the refusal after checking that the
    refusal left the row, its events and the outbox as they were.
    """
    with transaction.atomic():
        before = snapshot(complaint.pk)
        try:
            outcome = complaint_transition(complaint_id=complaint.pk, action=action, actor=actor, data=data)
            events = list(ComplaintEvent.objects.filter(complaint=complaint).order_by("-id")[:1])
            outcome._last_event = events[0]
        except DomainError as exc:
            assert snapshot(complaint.pk) == before, f"{action} refused with {exc.code} but changed something"
            outcome = (exc.status, exc.code)
        transaction.set_rollback(True)
    return outcome


@pytest.fixture
def centre_staff(org):
    """A handler and a head placed in the intake department: they see complaints with no handling department."""
    return {
        "handler": extra_staff("centre_handler", org.centre, "handler"),
        "head": extra_staff("centre_head", org.centre, "head"),
    }


def persona_for(org, role: str, complaint: Complaint, centre_staff):
    if role in DEPARTMENT:
        if complaint.department_id == org.network.pk:
            return org.persona(role)
        return centre_staff[role]
    return org.persona(role)


def expected_refusal(action: str, role: str, complaint: Complaint) -> tuple[int, str] | None:
    transition = TRANSITIONS[action]
    if role not in transition.roles:
        return (403, "role_not_allowed")
    if transition.department_action and role in DEPARTMENT and complaint.department_id is None:
        return (403, "not_your_department")
    return None


@pytest.mark.parametrize(("action", "state"), PAIRS, ids=[f"{a}-from-{s}" for a, s in PAIRS])
def test_allowed_roles_succeed_and_every_other_role_is_refused(org, centre_staff, action, state):
    complaint = complaint_in(org, state)
    transition = TRANSITIONS[action]
    mismatches = []
    for role in ROLES:
        actor = persona_for(org, role, complaint, centre_staff)
        expected = expected_refusal(action, role, complaint)
        outcome = attempt(complaint, action, actor, payload_for(action, org, complaint))
        offered = action in allowed_actions(complaint, actor)
        if expected is None:
            if not isinstance(outcome, Complaint):
                mismatches.append(f"{role}: expected success, got {outcome}")
                continue
            target = transition.target or State(complaint.suspended_from)
            event = outcome._last_event
            if (outcome.status, event.action, event.from_status, event.to_status) != (target, action, state, target):
                mismatches.append(
                    f"{role}: {outcome.status} / event {event.action} {event.from_status}->{event.to_status}"
                )
            if not offered:
                mismatches.append(f"{role}: succeeded but allowed_actions does not offer {action}")
        else:
            if outcome != expected:
                mismatches.append(f"{role}: expected {expected}, got {outcome if isinstance(outcome, tuple) else 'ok'}")
            if offered:
                mismatches.append(f"{role}: refused but allowed_actions offers {action}")
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.parametrize("state", list(State), ids=[s.value for s in State])
def test_an_action_from_a_state_it_does_not_start_from_is_a_conflict(org, centre_staff, state):
    complaint = complaint_in(org, state)
    mismatches = []
    for action, transition in TRANSITIONS.items():
        if state in transition.sources:
            continue
        # A role that may do the action, so that the state is the only reason to refuse.
        role = sorted(transition.roles - DEPARTMENT)[0] if transition.roles - DEPARTMENT else "handler"
        actor = persona_for(org, role, complaint, centre_staff)
        outcome = attempt(complaint, action, actor, payload_for(action, org, complaint))
        if outcome != (409, "invalid_state"):
            mismatches.append(f"{action} by {role}: {outcome}")
    assert not mismatches, "\n".join(mismatches)


def test_every_state_has_a_path_in_the_test_helpers():
    assert set(PATHS) == set(State)


class TestDepartmentActions:
    def test_a_handler_who_sees_the_complaint_but_works_elsewhere_may_not_take_it(self, org, centre_staff):
        complaint = complaint_in(org, State.DISPATCHED)
        with pytest.raises(Forbidden) as refused:
            complaint_transition(complaint_id=complaint.pk, action="take", actor=centre_staff["handler"])
        assert (refused.value.status, refused.value.code) == (403, "not_your_department")

    def test_a_handler_of_another_department_does_not_even_see_it(self, org):
        complaint = complaint_in(org, State.DISPATCHED)
        with pytest.raises(NotFound) as refused:
            complaint_transition(complaint_id=complaint.pk, action="take", actor=org.biz_handler)
        assert refused.value.code == "complaint_not_found"

    def test_a_head_of_another_department_may_not_transfer(self, org):
        head = extra_staff("biz_head", org.business, "head")
        # The head sees this complaint because he registered it himself; it is still not his department's.
        own = register(head, description="业务支撑部登记的工单")
        complaint_transition(complaint_id=own.pk, action="accept", actor=org.hq_manager)
        complaint_transition(
            complaint_id=own.pk, action="dispatch", actor=org.hq_manager, data={"department_id": org.network.pk}
        )
        transfer = {"department_id": org.business.pk, "reason": "抢单"}
        with pytest.raises(Forbidden) as refused:
            complaint_transition(complaint_id=own.pk, action="transfer", actor=head, data=transfer)
        assert refused.value.code == "not_your_department"
        # A complaint of the network department he has nothing to do with is simply not there for him.
        other = complaint_in(org, State.DISPATCHED)
        with pytest.raises(NotFound):
            complaint_transition(complaint_id=other.pk, action="transfer", actor=head, data=transfer)

    def test_after_a_transfer_the_new_department_works_it_and_the_old_one_loses_it(self, org):
        complaint = complaint_in(org, State.PROCESSING)
        complaint_transition(
            complaint_id=complaint.pk,
            action="transfer",
            actor=org.head,
            data={"department_id": org.business.pk, "reason": "属于业务支撑"},
        )
        with pytest.raises(NotFound):
            complaint_transition(complaint_id=complaint.pk, action="take", actor=org.handler)
        taken = complaint_transition(complaint_id=complaint.pk, action="take", actor=org.biz_handler)
        assert (taken.status, taken.department_id, taken.assignee_id) == (
            "processing",
            org.business.pk,
            org.biz_handler.pk,
        )

    def test_someone_of_another_branch_gets_not_found(self, org):
        complaint = complaint_in(org, State.DISPATCHED)
        with pytest.raises(NotFound):
            complaint_transition(complaint_id=complaint.pk, action="take", actor=org.outsider)


class TestRulesBeyondTheTable:
    def test_a_satisfied_and_solved_revisit_cannot_be_reopened(self, org):
        complaint = complaint_in(org, State.REPLIED)
        complaint_transition(
            complaint_id=complaint.pk, action="revisit", actor=org.agent, data={"satisfaction": 5, "solved": True}
        )
        with pytest.raises(Conflict) as refused:
            complaint_transition(complaint_id=complaint.pk, action="reopen", actor=org.agent, data={"reason": "再看看"})
        assert refused.value.code == "reopen_needs_unsatisfied_revisit"
        assert "reopen" not in allowed_actions(Complaint.objects.get(pk=complaint.pk), org.agent)

    @pytest.mark.parametrize(("satisfaction", "solved"), [(5, False), (2, True), (1, False)])
    def test_an_unsolved_or_unsatisfied_revisit_can_be_reopened(self, org, satisfaction, solved):
        complaint = complaint_in(org, State.REPLIED)
        complaint_transition(
            complaint_id=complaint.pk,
            action="revisit",
            actor=org.agent,
            data={"satisfaction": satisfaction, "solved": solved},
        )
        reopened = complaint_transition(
            complaint_id=complaint.pk, action="reopen", actor=org.agent, data={"reason": "问题仍在"}
        )
        assert (reopened.status, reopened.reopen_count, reopened.department_id) == ("dispatched", 1, org.network.pk)

    @pytest.mark.parametrize(
        "state", [State.ACCEPTED, State.DISPATCHED, State.PROCESSING, State.RETURNED, State.REVIEWED]
    )
    def test_resume_returns_to_the_state_the_complaint_was_suspended_from(self, org, state):
        complaint = complaint_in(org, state)
        suspended = complaint_transition(
            complaint_id=complaint.pk, action="suspend", actor=org.lead, data={"reason": "等待用户配合测试"}
        )
        assert (suspended.status, suspended.suspended_from) == ("suspended", state)
        resumed = complaint_transition(complaint_id=complaint.pk, action="resume", actor=org.lead)
        assert (resumed.status, resumed.suspended_from) == (state, "")

    def test_reconsidering_an_archived_complaint_opens_it_again_for_dispatch(self, org):
        complaint = complaint_in(org, State.ARCHIVED)
        assert complaint.closed_at is not None
        again = complaint_transition(
            complaint_id=complaint.pk, action="reconsider", actor=org.manager, data={"reason": "用户申请复议"}
        )
        assert (again.status, again.closed_at, again.department_id, again.reconsider_count) == (
            "accepted",
            None,
            None,
            1,
        )


class TestMilestonesAndEvents:
    def test_each_step_stamps_its_milestone_and_writes_one_event(self, org):
        complaint = complaint_in(org, State.ARCHIVED)
        for milestone in (
            "accepted_at",
            "dispatched_at",
            "taken_at",
            "returned_at",
            "reviewed_at",
            "replied_at",
            "revisited_at",
            "archived_at",
            "closed_at",
        ):
            assert getattr(complaint, milestone) is not None, milestone
        events = list(complaint.events.order_by("at", "id").values_list("action", "from_status", "to_status"))
        assert events == [
            ("register", "", "registered"),
            ("accept", "registered", "accepted"),
            ("dispatch", "accepted", "dispatched"),
            ("take", "dispatched", "processing"),
            ("return", "processing", "returned"),
            ("review_pass", "returned", "reviewed"),
            ("reply", "reviewed", "replied"),
            ("revisit", "replied", "revisited"),
            ("archive", "revisited", "archived"),
        ]

    def test_the_event_records_the_actor_and_the_payload(self, org):
        complaint = complaint_in(org, State.ACCEPTED)
        complaint_transition(
            complaint_id=complaint.pk, action="dispatch", actor=org.lead, data={"department_id": org.network.pk}
        )
        event = complaint.events.get(action="dispatch")
        assert event.actor == org.lead
        assert event.payload == {
            "department_id": org.network.pk,
            "department_name": org.network.name,
            "from_department_id": None,
        }

    def test_refusing_tells_the_complainant_why_and_closes_the_complaint(self, org):
        complaint = register(org.agent)
        refused = complaint_transition(
            complaint_id=complaint.pk, action="refuse", actor=org.agent, data={"reason": "不属于受理范围"}
        )
        assert (refused.status, refused.refuse_reason) == ("refused", "不属于受理范围")
        assert refused.closed_at is not None

    def test_merging_points_at_the_surviving_complaint(self, org):
        keep = register(org.agent, description="保留的单")
        duplicate = register(org.agent, description="重复的单")
        merged = complaint_transition(
            complaint_id=duplicate.pk, action="merge", actor=org.lead, data={"into_id": keep.pk}
        )
        assert (merged.status, merged.merged_into_id) == ("merged", keep.pk)
        assert merged.events.get(action="merge").payload["into_number"] == keep.number


class TestBadPayloads:
    @pytest.mark.parametrize(
        ("state", "action", "data", "code"),
        [
            (State.ACCEPTED, "dispatch", {}, "validation_error"),
            (State.ACCEPTED, "dispatch", {"department_id": "网络部"}, "validation_error"),
            (State.ACCEPTED, "dispatch", {"department_id": 10**9}, "unknown_department"),
            (State.REGISTERED, "refuse", {"reason": "   "}, "validation_error"),
            (State.REGISTERED, "refuse", {"reason": "长" * 10_001}, "validation_error"),
            (State.REGISTERED, "refuse", {"reason": "x", "surprise": 1}, "validation_error"),
            (State.REGISTERED, "refuse", {"reason": "a\x00b"}, "validation_error"),
            (State.REPLIED, "revisit", {"satisfaction": 6, "solved": True}, "validation_error"),
            (State.REPLIED, "revisit", {"satisfaction": 3}, "validation_error"),
            (State.REGISTERED, "merge", {"into_id": 10**9}, "unknown_complaint"),
        ],
    )
    def test_a_bad_payload_is_refused_with_400_and_changes_nothing(self, org, state, action, data, code):
        complaint = complaint_in(org, state)
        actor = org.lead
        outcome = attempt(complaint, action, actor, data)
        assert outcome == (400, code)

    def test_a_text_over_ten_thousand_characters_is_named_in_the_details(self, org):
        complaint = register(org.agent)
        with pytest.raises(InvalidInput) as refused:
            complaint_transition(
                complaint_id=complaint.pk, action="refuse", actor=org.agent, data={"reason": "长" * 10_001}
            )
        assert refused.value.details["fields"] == [
            {"field": "reason", "code": "text_too_long", "message": "内容过长，最多 10000 个字符"}
        ]

    def test_transfer_to_the_same_department_is_refused(self, org):
        complaint = complaint_in(org, State.DISPATCHED)
        outcome = attempt(complaint, "transfer", org.lead, {"department_id": org.network.pk, "reason": "x"})
        assert outcome == (400, "same_department")

    def test_merge_into_itself_is_refused(self, org):
        complaint = register(org.agent)
        assert attempt(complaint, "merge", org.lead, {"into_id": complaint.pk}) == (400, "merge_into_self")

    def test_merge_into_a_closed_complaint_is_refused(self, org):
        complaint = register(org.agent)
        closed = complaint_in(org, State.ARCHIVED)
        assert attempt(complaint, "merge", org.lead, {"into_id": closed.pk}) == (400, "merge_into_closed")

    def test_merge_into_a_complaint_outside_the_scope_is_refused(self, org):
        complaint = register(org.agent)
        elsewhere = register(org.outside_agent, description="乙分公司的单")
        assert attempt(complaint, "merge", org.lead, {"into_id": elsewhere.pk}) == (400, "unknown_complaint")

    def test_an_unknown_action_is_not_found(self, org):
        complaint = register(org.agent)
        assert attempt(complaint, "explode", org.admin, {}) == (404, "unknown_action")


class TestDispatchTargets:
    def test_a_branch_cannot_dispatch_into_another_branch(self, org):
        from kuaixiang.complaints.models import ComplaintEvent
        from kuaixiang.errors import InvalidInput

        complaint = register(org.agent)
        complaint_transition(complaint_id=complaint.pk, action="accept", actor=org.agent, data={})
        events = ComplaintEvent.objects.filter(complaint=complaint).count()
        with pytest.raises(InvalidInput) as refused:
            complaint_transition(
                complaint_id=complaint.pk,
                action="dispatch",
                actor=org.agent,
                data={"department_id": org.other_network.pk},
            )
        assert refused.value.code == "department_outside_unit"
        assert ComplaintEvent.objects.filter(complaint=complaint).count() == events

    def test_a_branch_may_dispatch_up_to_an_hq_department(self, org):
        complaint = register(org.agent)
        complaint_transition(complaint_id=complaint.pk, action="accept", actor=org.agent, data={})
        done = complaint_transition(
            complaint_id=complaint.pk, action="dispatch", actor=org.agent, data={"department_id": org.hq_legal.pk}
        )
        assert done.department_id == org.hq_legal.pk

    def test_hq_may_dispatch_into_any_branch(self, org):
        complaint = register(org.hq_manager)
        complaint_transition(complaint_id=complaint.pk, action="accept", actor=org.hq_manager, data={})
        done = complaint_transition(
            complaint_id=complaint.pk,
            action="dispatch",
            actor=org.hq_manager,
            data={"department_id": org.other_network.pk},
        )
        assert done.department_id == org.other_network.pk
