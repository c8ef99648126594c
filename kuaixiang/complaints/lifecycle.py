"""The complaint lifecycle as one explicit table: ``(state, action) -> next state`` and roles.

Pure Python (no Django import) so that property tests can explore it cheaply. The service
layer (``complaints.services``) is the only code that applies it to a stored complaint.
"""

from dataclasses import dataclass
from enum import StrEnum


class State(StrEnum):
    REGISTERED = "registered"  # 已登记
    ACCEPTED = "accepted"  # 已受理（待派单）
    REFUSED = "refused"  # 不予受理
    DISPATCHED = "dispatched"  # 已派单（待接单）
    PROCESSING = "processing"  # 处理中
    RETURNED = "returned"  # 已回单（待审核）
    REVIEWED = "reviewed"  # 审核通过（待答复）
    REPLIED = "replied"  # 已答复（待回访）
    REVISITED = "revisited"  # 已回访
    SUSPENDED = "suspended"  # 已挂起
    MERGED = "merged"  # 已合并
    ARCHIVED = "archived"  # 已归档


TERMINAL = frozenset({State.MERGED, State.ARCHIVED})
# States in which the clock of the complaint runs (not closed, not parked).
OPEN = frozenset(State) - TERMINAL - {State.REFUSED, State.SUSPENDED}

AGENT, LEAD, HANDLER, HEAD, MANAGER, PR, LEGAL, LEADER, ADMIN = (
    "agent",
    "lead",
    "handler",
    "head",
    "manager",
    "pr",
    "legal",
    "leader",
    "admin",
)
CENTRE = frozenset({AGENT, LEAD, MANAGER, ADMIN})  # the complaint centre's front line
SUPERVISORS = frozenset({LEAD, MANAGER, ADMIN})
DEPARTMENT = frozenset({HANDLER, HEAD})


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[State]
    target: State | None  # None: computed (resume returns to the state it left)
    roles: frozenset[str]
    required: tuple[str, ...] = ()
    # Department actions are limited to staff of the complaint's current department
    # (unit-scoped roles pass through their scope).
    department_action: bool = False


_ACTIVE_WORK = frozenset({State.ACCEPTED, State.DISPATCHED, State.PROCESSING, State.RETURNED, State.REVIEWED})

TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition("accept", frozenset({State.REGISTERED}), State.ACCEPTED, CENTRE),
        Transition("refuse", frozenset({State.REGISTERED}), State.REFUSED, CENTRE, ("reason",)),
        Transition("dispatch", frozenset({State.ACCEPTED}), State.DISPATCHED, CENTRE, ("department_id",)),
        Transition(
            "transfer",
            frozenset({State.DISPATCHED, State.PROCESSING}),
            State.DISPATCHED,
            SUPERVISORS | {HEAD},
            ("department_id", "reason"),
            department_action=True,
        ),
        Transition(
            "send_back",
            frozenset({State.DISPATCHED, State.PROCESSING}),
            State.ACCEPTED,
            DEPARTMENT,
            ("reason",),
            department_action=True,
        ),
        Transition("take", frozenset({State.DISPATCHED}), State.PROCESSING, DEPARTMENT, department_action=True),
        Transition(
            "return",
            frozenset({State.PROCESSING}),
            State.RETURNED,
            DEPARTMENT,
            ("findings", "solution"),
            department_action=True,
        ),
        Transition("review_pass", frozenset({State.RETURNED}), State.REVIEWED, SUPERVISORS),
        Transition("review_reject", frozenset({State.RETURNED}), State.PROCESSING, SUPERVISORS, ("reason",)),
        Transition("reply", frozenset({State.REVIEWED}), State.REPLIED, CENTRE, ("content",)),
        Transition("revisit", frozenset({State.REPLIED}), State.REVISITED, CENTRE, ("satisfaction", "solved")),
        Transition("reopen", frozenset({State.REPLIED, State.REVISITED}), State.DISPATCHED, CENTRE, ("reason",)),
        Transition(
            "reconsider",
            frozenset({State.REFUSED, State.ARCHIVED}),
            State.ACCEPTED,
            frozenset({MANAGER, LEADER, ADMIN}),
            ("reason",),
        ),
        Transition(
            "suspend", _ACTIVE_WORK, State.SUSPENDED, SUPERVISORS | DEPARTMENT, ("reason",), department_action=True
        ),
        Transition("resume", frozenset({State.SUSPENDED}), None, SUPERVISORS | DEPARTMENT, department_action=True),
        Transition(
            "merge",
            frozenset(State) - TERMINAL,
            State.MERGED,
            SUPERVISORS,
            ("into_id",),
        ),
        Transition("archive", frozenset({State.REVISITED, State.REFUSED}), State.ARCHIVED, SUPERVISORS),
    )
}

ACTIONS = tuple(TRANSITIONS)


def is_unsatisfied(satisfaction: int | None, solved: bool | None) -> bool:
    """A revisit counts as unsatisfied when the problem is unsolved or the score is 1–2 of 5."""
    return solved is False or (satisfaction is not None and satisfaction <= 2)


def next_state(transition: Transition, current: State, suspended_from: State | None) -> State:
    if transition.target is not None:
        return transition.target
    if suspended_from is None:
        raise ValueError("resume needs the state the complaint was suspended from")
    return suspended_from


def guard(action: str, current: State, *, satisfaction: int | None, solved: bool | None) -> str | None:
    """Return a refusal code when the rulebook forbids the move beyond the state table."""
    if action == "reopen" and current == State.REVISITED and not is_unsatisfied(satisfaction, solved):
        return "reopen_needs_unsatisfied_revisit"
    return None
