"""``{% grading_panel c %}``: the complaint's grading on its detail page — values, the rules that
matched and why, repeat and near-duplicate links (with the merge offer) and the override form."""

from django import template

from kuaixiang.complaints import services
from kuaixiang.complaints.lifecycle import TERMINAL, State
from kuaixiang.triage.views import FIELD_LABELS, value_label
from kuaixiang.web.forms import RegradeForm

register = template.Library()


@register.inclusion_tag("triage/grading_panel.html", takes_context=True)
def grading_panel(context, c: dict):
    request = context["request"]
    grading = c.get("grading") or {}
    can_regrade = services.role_of(request.user) in services.REGRADE_ROLES and State(c["status"]) not in TERMINAL
    values = [(FIELD_LABELS[f], value_label(f, c[f])) for f in FIELD_LABELS if f != "validity_reason"]
    if c["validity_reason"]:
        values.append((FIELD_LABELS["validity_reason"], value_label("validity_reason", c["validity_reason"])))
    return {
        "c": c,
        "values": values,
        "rules": grading.get("rules", []),
        "override": grading.get("override"),
        "distance": grading.get("duplicate_distance"),
        "can_merge": "merge" in c["allowed_actions"] and bool(c.get("duplicate_of")),
        "can_regrade": can_regrade,
        "form": context.get("regrade_form") or RegradeForm.for_complaint(c),
        "csrf_token": context.get("csrf_token"),
    }
