"""HTML for triage: the registration assistant (htmx) and the grading override on the detail page.

Thin: they call ``triage.selectors`` and ``complaints.services.complaint_regrade`` like the API.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from kuaixiang.complaints import selectors as complaint_selectors
from kuaixiang.complaints import services
from kuaixiang.complaints.models import Flag, Intent, RequestType, Severity, Validity, ValidityReason
from kuaixiang.errors import DomainError, InvalidInput
from kuaixiang.triage import selectors
from kuaixiang.web.forms import RegradeForm

CHOICES = {
    "severity": Severity,
    "intent": Intent,
    "request_type": RequestType,
    "validity": Validity,
    "validity_reason": ValidityReason,
}


@login_required
@require_GET
def registration_assist(request):
    """htmx partial under the registration form: similar open complaints and category suggestions.

    ``prefill`` is the top suggestion's category when its confidence reaches
    ``KX_CLASSIFIER_PREFILL``; the form's script sets it only while the agent has not chosen one.
    """
    text = request.GET.get("description", "")[: selectors.MAX_QUERY_TEXT]
    phone = request.GET.get("complainant_phone", "")[:40]
    try:
        similar = selectors.similar_open(request.user, text=text, phone=phone)
    except InvalidInput:
        similar = []
    suggestions = selectors.category_suggestions(text) if text.strip() else []
    chosen = request.GET.get("category_id", "")
    prefill = None
    if suggestions and suggestions[0].confidence >= settings.KX_CLASSIFIER_PREFILL:
        prefill = suggestions[0].category_id
    context = {
        "similar": similar,
        "suggestions": suggestions,
        "prefill": prefill,
        "chosen": chosen,
        "classifier": selectors.classifier_path() is not None,
        "threshold": settings.KX_CLASSIFIER_PREFILL,
    }
    return render(request, "triage/assist.html", context)


def value_label(field: str, value) -> str:
    """A grading value in Chinese (flags joined with 、)."""
    if field == "flags":
        return "、".join(str(Flag(f).label) if f in Flag.values else f for f in value) or "—"
    choices = CHOICES.get(field)
    if choices is not None and value in choices.values:
        return str(choices(value).label)
    return str(value) if value not in (None, "") else "—"


FIELD_LABELS = {
    "severity": "等级",
    "intent": "意图",
    "request_type": "诉求类型",
    "validity": "有效性",
    "validity_reason": "无效原因",
    "flags": "关注标记",
}


def regrade_details(payload: dict) -> list[tuple[str, str]]:
    """Timeline lines of a ``regrade`` event: one per changed field (before → after), and the
    stages whose deadlines it re-planned; the reason is shown by the timeline's generic line."""
    from kuaixiang.sla.models import Stage

    before, after = payload.get("before") or {}, payload.get("after") or {}
    lines = [
        (FIELD_LABELS.get(f, f), f"{value_label(f, before.get(f))} → {value_label(f, after[f])}")
        for f in FIELD_LABELS
        if f in after
    ]
    if payload.get("replanned"):
        stages = "、".join(str(Stage(s).label) if s in Stage.values else s for s in payload["replanned"])
        lines.append(("时限", f"按新的时限策略重算：{stages}"))
    return lines


@login_required
@require_POST
def complaint_regrade(request, complaint_id: int):
    """Apply the override form; a refusal re-renders the detail page with its message and status."""
    from kuaixiang.web.views import _detail_context, error_page

    form = RegradeForm(request.POST)
    try:
        services.complaint_regrade(complaint_id=complaint_id, actor=request.user, data=form.payload())
    except DomainError as exc:
        if exc.status == 404:
            return error_page(request, exc)
        complaint = complaint_selectors.complaint_detail(request.user, complaint_id)
        context = _detail_context(request, complaint)
        context["action_error"] = exc
        context["regrade_form"] = form
        return render(request, "web/complaint_detail.html", context, status=exc.status)
    messages.success(request, "已调整分级。")
    return redirect("web:complaint", complaint_id=complaint_id)
