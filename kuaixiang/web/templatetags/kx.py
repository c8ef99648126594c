"""Template helpers of the web UI: labels for codes, badge colours and Bootstrap form fields."""

from django import forms, template
from django.utils.translation import gettext as _

from kuaixiang.complaints.actions import LABELS as ACTION_LABELS
from kuaixiang.complaints.lifecycle import State
from kuaixiang.complaints.models import STATUS_LABELS, Channel, Severity
from kuaixiang.web import labels

register = template.Library()


@register.filter
def channel_label(code: str) -> str:
    try:
        return Channel(code).label
    except ValueError:
        return code


@register.filter
def severity_label(code: str) -> str:
    try:
        return Severity(code).label
    except ValueError:
        return code


@register.filter
def severity_colour(code: str) -> str:
    return labels.SEVERITY_COLOURS.get(code, "secondary")


@register.filter
def status_label(code: str) -> str:
    try:
        return str(STATUS_LABELS[State(code)])
    except ValueError:
        return code


@register.filter
def status_colour(code: str) -> str:
    try:
        return labels.STATUS_COLOURS[State(code)]
    except (ValueError, KeyError):
        return "secondary"


@register.filter
def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


@register.filter
def action_icon(action: str) -> str:
    return labels.ACTION_ICONS.get(action, "lightning")


@register.filter
def action_style(action: str) -> str:
    return labels.ACTION_STYLES.get(action, "outline-primary")


@register.filter
def yes_no(value) -> str:
    if value is None:
        return "—"
    return _("Yes") if value else _("No")


@register.inclusion_tag("web/partials/field.html")
def bs_field(field, **options):
    """Render a bound field the Bootstrap way: label, widget, help text and errors."""
    widget = field.field.widget
    if isinstance(widget, forms.CheckboxInput):
        kind, css = "check", "form-check-input"
    elif isinstance(widget, forms.RadioSelect):
        kind, css = "radio", "form-check-input"
    elif isinstance(widget, forms.Select):
        kind, css = "input", "form-select"
    elif isinstance(widget, forms.HiddenInput):
        kind, css = "hidden", ""
    else:
        kind, css = "input", "form-control"
    if field.errors:
        css += " is-invalid"
    attrs = {"class": css}
    if options.get("placeholder"):
        attrs["placeholder"] = options["placeholder"]
    if not options.get("label", True):
        attrs["aria-label"] = field.label
    return {
        "field": field,
        "kind": kind,
        "widget": field.as_widget(attrs=attrs) if kind not in ("radio",) else None,
        "required": getattr(field.field, "kx_required", False),
        "inline": options.get("inline", kind == "radio"),
        "show_label": options.get("label", True),
    }
