"""``{% remedies_panel %}``: the remedies card on the complaint page (included by web/complaint_detail.html)."""

from django import template

from kuaixiang.remedies.models import RemedyState, RemedyType, Responsibility
from kuaixiang.remedies.selectors import remedies_for_complaint

register = template.Library()

STATE_COLOURS = {
    RemedyState.PENDING: "warning",
    RemedyState.APPROVED: "info",
    RemedyState.REJECTED: "danger",
    RemedyState.RETURNED: "secondary",
    RemedyState.EXECUTED: "success",
    RemedyState.CANCELLED: "light",
}


@register.filter
def remedy_colour(state: str) -> str:
    return STATE_COLOURS.get(state, "secondary")


@register.inclusion_tag("remedies/partials/panel.html", takes_context=True)
def remedies_panel(context) -> dict:
    """Remedies of the page's complaint ``c`` (the page has already checked it is visible)."""
    complaint = context["c"]
    remedies = remedies_for_complaint(complaint["id"])
    executed = [r for r in remedies if r.state == RemedyState.EXECUTED]
    return {
        "c": complaint,
        "remedies": remedies,
        "executed_total": sum(r.amount for r in executed),
        "executed_count": len(executed),
    }


TYPE_LABELS = dict(RemedyType.choices)
RESPONSIBILITY_LABELS = dict(Responsibility.choices)


@register.filter
def remedy_type_label(code: str) -> str:
    return TYPE_LABELS.get(code, code)


@register.filter
def responsibility_label(code: str) -> str:
    return RESPONSIBILITY_LABELS.get(code, code)


@register.filter
def person(user, empty: str = "—") -> str:
    """A user's display name (full name, else username); ``empty`` for None."""
    if user is None:
        return empty
    return user.get_full_name() or user.username
