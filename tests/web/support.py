"""Helpers for the web tests."""

import re

from kuaixiang.complaints.services import complaint_transition

STEPS = (
    ("accept", "agent", {}),
    ("dispatch", "agent", "network"),
    ("take", "handler", {}),
    ("return", "handler", {"findings": "基站故障", "solution": "已修复"}),
    ("review_pass", "lead", {}),
    ("reply", "agent", {"content": "已修复，请重试"}),
    ("revisit", "agent", {"satisfaction": 5, "solved": True}),
    ("archive", "lead", {}),
)


def walk(complaint, org, until: str):
    """Move a registered complaint along the usual path up to and including the step ``until``."""
    for action, persona, data in STEPS:
        if data == "network":
            data = {"department_id": org.network.pk}
        complaint = complaint_transition(
            complaint_id=complaint.pk, action=action, actor=org.persona(persona), data=data
        )
        if action == until:
            return complaint
    raise AssertionError(f"no step named {until}")


def action_buttons(html: str) -> set[str]:
    """The actions offered as buttons in the detail page's action bar."""
    bar = html.split('id="actions"', 1)[1].split("</div>", 1)[0]
    return set(re.findall(r'data-action="([a-z_]+)"', bar))


def field_errors(html: str) -> dict[str, list[str]]:
    """Per-field error messages rendered by the bs_field partial."""
    errors: dict[str, list[str]] = {}
    for name, message in re.findall(r'data-field="([a-z_]+)">([^<]+)<', html):
        errors.setdefault(name, []).append(message)
    return errors
