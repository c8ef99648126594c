"""The lifecycle table, and a hypothesis state machine that drives random actions by random
personas through the real service: no state outside the table is reachable, each accepted action
writes exactly one event with the right from/to, and a refused one writes nothing and changes nothing."""

from collections import deque

import pytest
from django.db import transaction
from django.db.models import Count
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from kuaixiang.complaints.actions import LABELS, PAYLOADS
from kuaixiang.complaints.lifecycle import ACTIONS, DEPARTMENT, OPEN, TERMINAL, TRANSITIONS, State, guard
from kuaixiang.complaints.models import Complaint, ComplaintEvent
from kuaixiang.complaints.selectors import complaints_visible
from kuaixiang.complaints.services import complaint_transition, role_of
from kuaixiang.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from kuaixiang.notify.models import Notification
from kuaixiang.org.roles import Role
from kuaixiang.org.scope import scope_for
from tests.lifecycle_paths import payload_for
from tests.personas import build_org, register


class TestTheTable:
    def test_every_action_names_real_states_and_roles(self):
        roles = {r.value for r in Role}
        for action, t in TRANSITIONS.items():
            assert t.action == action
            assert t.sources and t.sources <= set(State), action
            assert t.target is None or t.target in State, action
            assert t.roles and t.roles <= roles, action

    def test_every_action_has_a_payload_schema_and_a_chinese_label(self):
        assert set(PAYLOADS) == set(ACTIONS)
        assert set(ACTIONS) <= set(LABELS)

    def test_required_fields_of_the_table_are_required_by_the_payload_schema(self):
        for action, t in TRANSITIONS.items():
            required = {name for name, f in PAYLOADS[action].model_fields.items() if f.is_required()}
            assert set(t.required) == required, action

    def test_every_state_is_reachable_from_registration(self):
        seen, todo = {State.REGISTERED}, deque([State.REGISTERED])
        while todo:
            state = todo.popleft()
            for t in TRANSITIONS.values():
                if state in t.sources:
                    targets = [t.target] if t.target else [s for s in _suspendable()]
                    for target in targets:
                        if target not in seen:
                            seen.add(target)
                            todo.append(target)
        assert seen == set(State)

    def test_merged_is_final_and_archived_only_opens_again_by_reconsideration(self):
        leaving = {a for a, t in TRANSITIONS.items() if TERMINAL & t.sources}
        assert leaving == {"reconsider"}
        assert State.MERGED not in TRANSITIONS["reconsider"].sources

    def test_only_open_states_can_be_suspended_and_the_clock_stops_while_suspended(self):
        assert TRANSITIONS["suspend"].sources <= OPEN
        assert State.SUSPENDED not in OPEN

    def test_the_guard_only_refuses_reopening_a_satisfied_solved_revisit(self):
        assert guard("reopen", State.REVISITED, satisfaction=5, solved=True) == "reopen_needs_unsatisfied_revisit"
        assert guard("reopen", State.REVISITED, satisfaction=2, solved=True) is None
        assert guard("reopen", State.REVISITED, satisfaction=5, solved=False) is None
        assert guard("reopen", State.REPLIED, satisfaction=None, solved=None) is None
        assert guard("archive", State.REVISITED, satisfaction=5, solved=True) is None


def _suspendable() -> frozenset[State]:
    return TRANSITIONS["suspend"].sources


# ---------------------------------------------------------------- the state machine

PERSONAS = [
    "agent",
    "lead",
    "handler",
    "head",
    "manager",
    "biz_handler",
    "hq_manager",
    "pr",
    "legal",
    "leader",
    "admin",
    "outsider",
    "outside_agent",
]
REGISTRARS = ["agent", "agent", "agent", "lead", "manager", "hq_manager", "outside_agent"]
DEPARTMENTS = ["network", "network", "network", "business", "centre", "other_network"]
# Hypothesis favours the first of a list: put the moves that carry a complaint forward first.
FORWARD_FIRST = [
    "accept",
    "dispatch",
    "take",
    "return",
    "review_pass",
    "reply",
    "revisit",
    "archive",
    "reopen",
    "reconsider",
    "resume",
    "transfer",
    "send_back",
    "review_reject",
    "suspend",
    "refuse",
    "merge",
]
# States in which a complaint is being worked by a department, and those before any department.
WORKED = {State.DISPATCHED, State.PROCESSING, State.RETURNED, State.REVIEWED, State.REPLIED, State.REVISITED}
UNDISPATCHED = {State.REGISTERED, State.ACCEPTED}
CLOSED = {State.REFUSED, State.MERGED, State.ARCHIVED}
# 400s a valid-looking payload may still earn, for reasons that depend on other rows.
CONTEXT_400 = {
    "same_department",
    "department_outside_unit",
    "merge_into_self",
    "merge_into_closed",
    "unknown_complaint",
}


def snapshot(complaint_id: int) -> tuple:
    return (
        Complaint.objects.filter(pk=complaint_id).values().get(),
        ComplaintEvent.objects.filter(complaint_id=complaint_id).count(),
        Notification.objects.count(),
    )


class LifecycleMachine(RuleBasedStateMachine):
    """One example = a fresh organisation in a savepoint that is rolled back at the end."""

    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.org = build_org()
        self.ids: list[int] = []
        # What the table says each complaint should be: status, state it was suspended from, accepted actions.
        self.expected: dict[int, State] = {}
        self.suspended_from: dict[int, State | None] = {}
        self.accepted: dict[int, int] = {}

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    @precondition(lambda self: len(self.ids) < 3)  # few complaints, long lives
    @rule(persona=st.sampled_from(REGISTRARS))
    def register_a_complaint(self, persona):
        complaint = register(self.org.persona(persona), description=f"{persona} 登记的投诉")
        self.ids.append(complaint.pk)
        self.expected[complaint.pk] = State.REGISTERED
        self.suspended_from[complaint.pk] = None
        self.accepted[complaint.pk] = 0

    @precondition(lambda self: self.ids)
    @rule(data=st.data())
    def act(self, data):
        complaint_id = data.draw(st.sampled_from(self.ids), label="complaint")
        state = self.expected[complaint_id]
        complaint = Complaint.objects.get(pk=complaint_id)
        # Mostly pick an action the table allows from here, by someone who may do it, so that examples
        # get deep into the lifecycle; otherwise anything by anyone.
        if data.draw(st.sampled_from([True, True, True, False]), label="plausible"):
            candidates = [a for a in FORWARD_FIRST if state in TRANSITIONS[a].sources] or FORWARD_FIRST
            action = data.draw(st.sampled_from(candidates), label="action")
            able = [p for p in PERSONAS if self._could(TRANSITIONS[action], self.org.persona(p), complaint)]
            persona = data.draw(st.sampled_from(able or PERSONAS), label="persona")
        else:
            action = data.draw(st.sampled_from(ACTIONS), label="action")
            persona = data.draw(st.sampled_from(PERSONAS), label="persona")
        actor = self.org.persona(persona)
        payload, broken = self._payload(data, action, complaint)

        before = snapshot(complaint_id)
        expected_refusal = self._expected_refusal(action, actor, complaint)
        try:
            changed = complaint_transition(complaint_id=complaint_id, action=action, actor=actor, data=payload)
        except DomainError as exc:
            assert snapshot(complaint_id) == before, f"refused {action} ({exc.code}) changed something"
            assert isinstance(exc, NotFound | Forbidden | Conflict | InvalidInput)
            if expected_refusal is not None:
                assert (exc.status, exc.code) == expected_refusal, (action, persona, state)
            else:
                assert exc.status == 400, (action, persona, state, exc.code)
                assert broken or exc.code in CONTEXT_400, (action, payload, exc.code)
            return
        assert expected_refusal is None, f"{persona} did {action} from {state}; expected {expected_refusal}"
        assert not broken, f"{action} accepted a broken payload {payload}"

        transition = TRANSITIONS[action]
        target = transition.target or self.suspended_from[complaint_id]
        assert changed.status == target
        self.suspended_from[complaint_id] = state if action == "suspend" else None
        self.expected[complaint_id] = target
        self.accepted[complaint_id] += 1
        after_row, after_events, _ = snapshot(complaint_id)
        assert after_events == before[1] + 1
        event = ComplaintEvent.objects.filter(complaint_id=complaint_id).latest("id")
        assert (event.action, event.from_status, event.to_status, event.actor_id) == (action, state, target, actor.pk)

    @staticmethod
    def _could(transition, actor, complaint: Complaint) -> bool:
        """A cheap guess (for steering only) whether ``actor`` sees the complaint and may do ``transition``."""
        scope = scope_for(actor)
        sees = scope.everything or complaint.registered_by_id == actor.pk
        sees = sees or bool({complaint.department_id, complaint.intake_department_id} & scope.department_ids)
        mine = not (transition.department_action and scope.role in DEPARTMENT) or (
            complaint.department_id in scope.own_department_ids
        )
        return sees and mine and scope.role in transition.roles

    def _payload(self, data, action: str, complaint: Complaint) -> tuple[dict, bool]:
        payload = payload_for(action, self.org, complaint)
        if action in ("dispatch", "transfer"):
            # Elsewhere first: a transfer to the current department is refused (tested on its own).
            options = sorted(DEPARTMENTS, key=lambda d: self.org.persona(d).pk == complaint.department_id)
            department = data.draw(st.sampled_from(options), label="department")
            payload["department_id"] = self.org.persona(department).pk
        if action == "merge":
            payload["into_id"] = data.draw(st.sampled_from([*self.ids, payload["into_id"]]), label="into")
        if action == "revisit":
            payload["satisfaction"] = data.draw(st.integers(1, 5), label="satisfaction")
            payload["solved"] = data.draw(st.booleans(), label="solved")
        breakage = data.draw(st.sampled_from(["none"] * 8 + ["drop", "junk"]), label="breakage")
        if breakage == "drop" and payload:
            dropped = sorted(payload)[0]
            payload.pop(dropped)
            return payload, dropped in TRANSITIONS[action].required  # e.g. a revisit's comment is optional
        if breakage == "junk":
            payload["unexpected"] = 1
            return payload, True
        return payload, False

    def _expected_refusal(self, action: str, actor, complaint: Complaint) -> tuple[int, str] | None:
        """The refusal the rulebook predicts, or None when only the payload can still be refused."""
        transition = TRANSITIONS[action]
        role = role_of(actor)
        if not complaints_visible(actor).filter(pk=complaint.pk).exists():
            return (404, "complaint_not_found")
        if role not in transition.roles:
            return (403, "role_not_allowed")
        if complaint.state not in transition.sources:
            return (409, "invalid_state")
        if transition.department_action and role in DEPARTMENT:
            if complaint.department_id not in scope_for(actor).own_department_ids:
                return (403, "not_your_department")
        code = guard(action, complaint.state, satisfaction=complaint.satisfaction, solved=complaint.solved)
        return (409, code) if code else None

    @invariant()
    def every_complaint_is_where_the_table_put_it(self):
        rows = Complaint.objects.filter(pk__in=self.ids).annotate(n_events=Count("events"))
        for c in rows.values(
            "id", "status", "suspended_from", "closed_at", "merged_into_id", "department_id", "n_events"
        ):
            state = State(c["status"])  # raises for anything outside the enum
            assert state == self.expected[c["id"]]
            assert c["n_events"] == 1 + self.accepted[c["id"]], "one event per accepted action, plus registration"
            if state != State.MERGED:  # a suspended complaint may be merged away; it keeps its note
                assert (state == State.SUSPENDED) == bool(c["suspended_from"])
            assert (state in CLOSED) == (c["closed_at"] is not None)
            assert (state == State.MERGED) == (c["merged_into_id"] is not None)
            if state in WORKED:
                assert c["department_id"] is not None
            if state in UNDISPATCHED:
                assert c["department_id"] is None

    @invariant()
    def the_timeline_is_an_unbroken_chain(self):
        last: dict[int, str] = {}
        events = ComplaintEvent.objects.filter(complaint_id__in=self.ids).order_by("complaint_id", "at", "id")
        for complaint_id, from_status, to_status in events.values_list("complaint_id", "from_status", "to_status"):
            assert from_status == last.get(complaint_id, ""), "each event starts where the previous one ended"
            last[complaint_id] = to_status
        for complaint_id, state in self.expected.items():
            assert last[complaint_id] == state


@pytest.mark.django_db
def test_random_action_sequences_by_random_personas_respect_the_lifecycle():
    run_state_machine_as_test(
        LifecycleMachine,
        settings=settings(
            max_examples=20,
            stateful_step_count=50,
            deadline=None,
            database=None,
            # No shrinking: a failure prints its steps; shrinking a 50-step run can take many minutes.
            phases=[Phase.explicit, Phase.reuse, Phase.generate],
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
