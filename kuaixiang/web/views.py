"""HTML views. Thin: parse the request, call the same services and selectors as the API, render.

A refused request (``DomainError``) is shown on the page with its Chinese message and the
HTTP status the API would give (400/403/404/409) — never a 500.
"""

import re
import uuid
from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kuaixiang import clock
from kuaixiang.complaints import present, selectors, services
from kuaixiang.complaints.actions import LABELS as ACTION_LABELS
from kuaixiang.complaints.intake import parse_complaint_input
from kuaixiang.complaints.lifecycle import CENTRE, OPEN, State
from kuaixiang.complaints.models import Channel
from kuaixiang.errors import DomainError, InvalidInput
from kuaixiang.notify.selectors import inbox_page
from kuaixiang.notify.services import inbox_mark_read
from kuaixiang.sla.selectors import SLA_STATES, queue_clocks, stage_clock, stages_for_complaint
from kuaixiang.triage.views import regrade_details
from kuaixiang.web import labels
from kuaixiang.web.forms import ActionForm, ComplaintForm, QueueFilterForm, department_choices

WORKBENCH_ROWS = 10
QUEUE_ROWS = 30
INBOX_ROWS = 100
OPEN_STATES = [s.value for s in OPEN]
_NUMBER = re.compile(r"TS\d{14,}", re.IGNORECASE)


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


def error_page(request, exc: DomainError) -> HttpResponse:
    return render(request, "web/error.html", {"error": exc}, status=exc.status)


def domain_errors(view):
    """Show any refusal the view did not handle itself as an error page with its status."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            return error_page(request, exc)

    return wrapper


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _rows(page: selectors.Page, role: str) -> list[dict]:
    now = clock.now()
    items = []
    for row in page.items:
        item = present.list_item(row, role)
        item["overdue"] = bool(item["due_at"] and item["due_at"] < now and item["status"] in OPEN_STATES)
        items.append(item)
    return items


# ---------------------------------------------------------------- workbench


@login_required
@domain_errors
def workbench(request):
    user = request.user
    staff = services.staff_of(user)
    counts = selectors.queue_counts(user)
    mine = selectors.complaints_page(
        user, selectors.ComplaintFilters(assignee_id=user.pk, status=OPEN_STATES), limit=WORKBENCH_ROWS
    )
    # The complaint centre follows what it took in; a handling department what was sent to it.
    if staff.role in CENTRE:
        team_filters = selectors.ComplaintFilters(intake_department_id=staff.department_id, status=OPEN_STATES)
        team_query = {"status": "open"}
    else:
        team_filters = selectors.ComplaintFilters(department_id=staff.department_id, status=OPEN_STATES)
        team_query = {"status": "open", "department": staff.department_id}
    team = selectors.complaints_page(user, team_filters, limit=WORKBENCH_ROWS)
    status_counts = [
        {"status": s.value, "count": counts.get(s.value, 0), "colour": labels.STATUS_COLOURS[s]} for s in State
    ]
    return render(
        request,
        "web/workbench.html",
        {
            "counts": counts,
            "status_counts": status_counts,
            "mine": _rows(mine, staff.role),
            "mine_more": mine.next_cursor is not None,
            "team": _rows(team, staff.role),
            "team_more": team.next_cursor is not None,
            "team_url": reverse("web:queue") + "?" + urlencode(team_query),
            "department": staff.department,
        },
    )


# ---------------------------------------------------------------- registration


@login_required
@domain_errors
def complaint_new(request):
    if request.method != "POST":
        return render(request, "web/complaint_form.html", {"form": ComplaintForm()})
    form = ComplaintForm(request.POST, request.FILES)
    form.is_valid()  # only shapes the input; the intake below holds the rules
    raw = form.raw_input()
    try:
        data = parse_complaint_input(raw)
    except InvalidInput as exc:
        form.add_domain_errors(exc.details.get("fields") or [{"field": "", "message": exc.message}])
        data = None
    if data is None or form.errors or form.extra_errors:
        return _form_invalid(request, form)

    uploads = form.cleaned_data.get("attachments") or []
    try:
        with transaction.atomic():  # the complaint and its files, all or nothing
            registered = services.complaint_register(
                actor=request.user, data=data, idempotency_key=form.submitted_key()
            )
            if registered.created:
                services.attachments_add(complaint_id=registered.complaint.pk, actor=request.user, uploads=uploads)
    except InvalidInput as exc:
        if "file" in exc.details:
            form.add_error("attachments", exc.message)
        elif exc.code == "unknown_category":
            form.add_error("category_id", exc.message)
        elif not form.errors:
            form.add_error(None, exc.message)
        return _form_invalid(request, form)

    complaint = registered.complaint
    if registered.created:
        messages.success(request, _("Complaint %(number)s registered.") % {"number": complaint.number})
    else:
        messages.info(
            request,
            _("This complaint was already registered as %(number)s; nothing new was written.")
            % {"number": complaint.number},
        )
    return redirect("web:complaint", complaint_id=complaint.pk)


def _form_invalid(request, form: ComplaintForm) -> HttpResponse:
    return render(
        request,
        "web/complaint_form.html",
        {"form": form, "files_dropped": bool(request.FILES)},
        status=400,
    )


# ---------------------------------------------------------------- detail and actions


def _timeline(items: list[dict]) -> list[dict]:
    """Add the payload lines worth showing to ``present.event_item`` entries."""
    for item in items:
        payload = item["payload"] or {}
        details = []
        for key, label in labels.PAYLOAD_LABELS.items():
            value = payload.get(key)
            if value in (None, ""):
                continue
            if key == "solved":
                value = _("Yes") if value else _("No")
            elif key == "satisfaction":
                value = f"{value} / 5"
            elif key == "channel":
                value = Channel(value).label if value in Channel.values else value
            details.append((label, value))
        if item["action"] == "regrade":
            details.extend(regrade_details(payload))
        item["details"] = details
    return items


def _duration(value) -> str:
    """A span as H:MM (hours may exceed 24), "" for None; the sign is shown by the label."""
    if value is None:
        return ""
    minutes = int(abs(value).total_seconds()) // 60
    return f"{minutes // 60}:{minutes % 60:02d}"


def _detail_context(request, complaint, *, forms: dict | None = None) -> dict:
    user = request.user
    role = services.role_of(user)
    allowed = services.allowed_actions(complaint, user)
    stages = stages_for_complaint(complaint.pk)
    data = present.detail(
        complaint,
        role=role,
        allowed=allowed,
        timeline=selectors.complaint_timeline(complaint),
        attachments=list(complaint.attachments.order_by("id")),
        stages=stages,
    )
    now = clock.now()
    for item, row in zip(data["stages"], stages, strict=True):
        item["state"], left = stage_clock(row, now)
        item["left"] = _duration(left)
    departments = department_choices() if {"dispatch", "transfer"} & set(allowed) else []
    forms = forms or {}
    actions = [forms.get(a) or ActionForm(a, departments=departments) for a in allowed]
    return {
        "c": data,
        "actions": actions,
        "timeline": _timeline(data["timeline"]),
        "overdue": bool(complaint.due_at and complaint.due_at < now and complaint.closed_at is None),
        "can_attach": complaint.state not in (State.MERGED, State.ARCHIVED),
    }


@login_required
@domain_errors
def complaint_detail(request, complaint_id: int):
    complaint = selectors.complaint_detail(request.user, complaint_id)
    return render(request, "web/complaint_detail.html", _detail_context(request, complaint))


def _resolve_merge_target(request, payload: dict) -> None:
    """Accept a complaint number as well as an id for ``merge``; the service checks scope and state."""
    into = payload.pop("into", None)
    if into is None:
        return
    if _NUMBER.fullmatch(into):
        found = selectors.complaints_visible(request.user).filter(number=into.upper()).values_list("pk", flat=True)
        payload["into_id"] = found.first() or into
    else:
        payload["into_id"] = into


@login_required
@domain_errors
def complaint_action(request, complaint_id: int, action: str):
    if request.method != "POST":
        complaint = selectors.complaint_detail(request.user, complaint_id)
        if action not in services.allowed_actions(complaint, request.user):
            messages.warning(request, _("This action is not available for this complaint now."))
            return redirect("web:complaint", complaint_id=complaint_id)
        departments = department_choices() if action in ("dispatch", "transfer") else []
        initial = {"into": request.GET.get("into", "")[:40]} if action == "merge" else None  # offered merges
        form = ActionForm(action, departments=departments, initial=initial)
        return render(request, "web/complaint_action.html", {"form": form, "c": _summary(request, complaint)})

    departments = department_choices() if action in ("dispatch", "transfer") else []
    form = ActionForm(action, request.POST, departments=departments)
    form.is_valid()
    payload = form.payload()
    if action == "merge":
        _resolve_merge_target(request, payload)
    try:
        services.complaint_transition(complaint_id=complaint_id, action=action, actor=request.user, data=payload)
    except InvalidInput as exc:
        fields = exc.details.get("fields")
        if fields:
            if action == "merge" and not str(payload.get("into_id", "")).isdigit():
                fields = [{"field": "into", "message": _("No complaint with this number in your data scope.")}]
            form.add_domain_errors(fields)
        else:
            form.add_error(None, exc.message)
        complaint = selectors.complaint_detail(request.user, complaint_id)
        context = {"form": form, "c": _summary(request, complaint)}
        return render(request, "web/complaint_action.html", context, status=exc.status)
    except DomainError as exc:
        if exc.status == 404:
            return error_page(request, exc)
        complaint = selectors.complaint_detail(request.user, complaint_id)
        context = _detail_context(request, complaint)
        context["action_error"] = exc
        return render(request, "web/complaint_detail.html", context, status=exc.status)
    label = ACTION_LABELS.get(action, action)
    messages.success(request, _("Done: %(action)s.") % {"action": label})
    return redirect("web:complaint", complaint_id=complaint_id)


def _summary(request, complaint) -> dict:
    role = services.role_of(request.user)
    return {
        "id": complaint.pk,
        "number": complaint.number,
        "status": complaint.status,
        "severity": complaint.severity,
        "description": complaint.description,
        "complainant_name": complaint.complainant_name,
        "complainant_phone": present.phone_for(role, complaint.complainant_phone),
        "department": complaint.department.name if complaint.department_id else "",
    }


@login_required
@require_POST
@domain_errors
def attachment_upload(request, complaint_id: int):
    uploads = request.FILES.getlist("attachments")
    if not uploads:
        messages.warning(request, _("Choose at least one file."))
        return redirect("web:complaint", complaint_id=complaint_id)
    try:
        saved = services.attachments_add(complaint_id=complaint_id, actor=request.user, uploads=uploads)
    except DomainError as exc:
        if exc.status == 404:
            return error_page(request, exc)
        complaint = selectors.complaint_detail(request.user, complaint_id)
        context = _detail_context(request, complaint)
        context["action_error"] = exc
        return render(request, "web/complaint_detail.html", context, status=exc.status)
    messages.success(request, _("%(count)d file(s) attached.") % {"count": len(saved)})
    return redirect("web:complaint", complaint_id=complaint_id)


@login_required
@domain_errors
def attachment_download(request, complaint_id: int, attachment_id: int):
    """Serve an evidence file only to someone who may open its complaint."""
    complaint = selectors.complaint_detail(request.user, complaint_id)
    attachment = complaint.attachments.filter(pk=attachment_id).first()
    if attachment is None:
        raise Http404
    response = FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.name)
    response["X-Content-Type-Options"] = "nosniff"
    return response


# ---------------------------------------------------------------- queue and search


def _page_query(request, cursor: str) -> str:
    params = request.GET.copy()
    params.pop("fragment", None)
    params["cursor"] = cursor
    return params.urlencode()


def _list_response(
    request, template: str, context: dict, page: selectors.Page, role: str, clocks: bool = False
) -> HttpResponse:
    rows = _rows(page, role)
    if clocks:  # remaining working time of each row's most urgent stage, one query per page
        found = queue_clocks([r["id"] for r in rows], now=clock.now())
        for row in rows:
            if row["id"] in found:
                row["sla_state"], left = found[row["id"]]
                row["sla_left"] = _duration(left)
    context.update(
        rows=rows,
        next_query=_page_query(request, page.next_cursor) if page.next_cursor else "",
        paged=bool(request.GET.get("cursor")),
        first_query=_page_query(request, "").replace("cursor=", "").strip("&"),
    )
    if _is_htmx(request) and request.GET.get("fragment") == "rows":
        return render(request, "web/partials/rows_page.html", context)
    return render(request, template, context)


@login_required
@domain_errors
def queue(request):
    form = QueueFilterForm(request.GET)
    filters = form.filters()
    # Deadline state (overdue / warning / on_time) and sort order (received / due), see docs/sla.md.
    sla_state, sort = request.GET.get("sla") or "", request.GET.get("sort") or "received"
    filters.sla_state = sla_state if sla_state in SLA_STATES else None
    filters.sort = "due" if sort == "due" else "received"
    page = selectors.complaints_page(request.user, filters, cursor=request.GET.get("cursor") or None, limit=QUEUE_ROWS)
    role = services.role_of(request.user)
    context = {"form": form, "sla_state": filters.sla_state or "", "sort": filters.sort}
    return _list_response(request, "web/queue.html", context, page, role, clocks=True)


@login_required
@domain_errors
def search(request):
    q = (request.GET.get("q") or "").strip()[:200]
    context = {"q": q}
    if not q:
        return render(request, "web/search.html", context)
    page = selectors.complaints_page(
        request.user, selectors.ComplaintFilters(q=q), cursor=request.GET.get("cursor") or None, limit=QUEUE_ROWS
    )
    if _NUMBER.fullmatch(q) and len(page.items) == 1 and not request.GET.get("cursor"):
        return redirect("web:complaint", complaint_id=page.items[0]["id"])
    return _list_response(request, "web/search.html", context, page, services.role_of(request.user))


# ---------------------------------------------------------------- inbox


@login_required
def inbox(request):
    unread_only = request.GET.get("unread") == "1"
    items = inbox_page(request.user, unread_only=unread_only, limit=INBOX_ROWS)
    return render(request, "web/inbox.html", {"items": items, "unread_only": unread_only})


@login_required
@require_POST
def inbox_read(request):
    """Mark one, several (``id``) or all (``all=1``) messages read, then go on to ``next``."""
    ids = []
    for raw in request.POST.getlist("id"):
        try:
            ids.append(uuid.UUID(raw))
        except ValueError:
            return render(
                request,
                "web/error.html",
                {"error": InvalidInput("invalid_id", _("Malformed message id."))},
                status=400,
            )
    if ids or request.POST.get("all") == "1":
        inbox_mark_read(user=request.user, notification_ids=ids or None)
    target = request.POST.get("next") or reverse("web:inbox")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        target = reverse("web:inbox")
    return redirect(target)


@login_required
def inbox_bell(request):
    return render(request, "web/partials/bell.html")
