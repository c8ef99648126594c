"""Drive a complaint to any lifecycle state through the real service, with valid payloads.

Deterministic paths (no random statuses): every state is reached the way a user would reach it.
"""

from django.contrib.auth import get_user_model

from kuaixiang.complaints.lifecycle import State
from kuaixiang.complaints.models import Complaint
from kuaixiang.complaints.services import complaint_transition
from kuaixiang.org.models import Staff
from tests.personas import PASSWORD, Org, register

_TO_PROCESSING = [("accept", "agent"), ("dispatch", "agent"), ("take", "handler")]
_TO_REVISITED = [
    *_TO_PROCESSING,
    ("return", "handler"),
    ("review_pass", "lead"),
    ("reply", "agent"),
    ("revisit", "agent"),
]

PATHS: dict[State, list[tuple[str, str]]] = {
    State.REGISTERED: [],
    State.ACCEPTED: [("accept", "agent")],
    State.REFUSED: [("refuse", "agent")],
    State.DISPATCHED: [("accept", "agent"), ("dispatch", "agent")],
    State.PROCESSING: _TO_PROCESSING,
    State.RETURNED: [*_TO_PROCESSING, ("return", "handler")],
    State.REVIEWED: [*_TO_PROCESSING, ("return", "handler"), ("review_pass", "lead")],
    State.REPLIED: _TO_REVISITED[:-1],
    State.REVISITED: _TO_REVISITED,
    State.SUSPENDED: [*_TO_PROCESSING, ("suspend", "lead")],
    State.MERGED: [("merge", "lead")],
    State.ARCHIVED: [*_TO_REVISITED, ("archive", "lead")],
}


def payload_for(action: str, org: Org, complaint: Complaint) -> dict:
    """A valid payload for ``action`` on ``complaint`` (merge creates a fresh target complaint)."""
    match action:
        case "dispatch":
            return {"department_id": org.network.pk}
        case "transfer":
            target = org.business if complaint.department_id != org.business.pk else org.network
            return {"department_id": target.pk, "reason": "不属于本部门"}
        case "return":
            return {"findings": "基站故障", "solution": "已修复基站"}
        case "reply":
            return {"content": "已修复，请重试"}
        case "revisit":
            # Unsatisfied, so that ``reopen`` stays possible from the revisited state.
            return {"satisfaction": 2, "solved": False, "comment": "还是没信号"}
        case "merge":
            return {"into_id": register(org.agent, description="同一问题的另一张单").pk}
        case "accept" | "take" | "review_pass" | "resume" | "archive":
            return {}
        case _:
            return {"reason": "测试原因"}


def complaint_in(org: Org, state: State, **fields) -> Complaint:
    """A complaint registered by the branch-A agent and moved to ``state``."""
    complaint = register(org.agent, **fields)
    for action, persona in PATHS[state]:
        complaint = complaint_transition(
            complaint_id=complaint.pk,
            action=action,
            actor=org.persona(persona),
            data=payload_for(action, org, complaint),
        )
    assert complaint.status == state
    return complaint


def extra_staff(username: str, department, role: str):
    """One more person for a variation the named personas do not cover."""
    user = get_user_model().objects.create_user(username, password=PASSWORD, first_name=username)
    Staff.objects.create(user=user, department=department, role=role)
    return user
