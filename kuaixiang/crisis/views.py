"""HTML pages of the crisis app. Thin: the same services and selectors as the API."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from kuaixiang import clock
from kuaixiang.crisis import reports, selectors, services
from kuaixiang.crisis.actions import ACTIONS, incident_action
from kuaixiang.crisis.api import DOCX
from kuaixiang.crisis.criteria import SEVERITIES
from kuaixiang.crisis.models import Incident, Severity
from kuaixiang.crisis.scripts import APPROVE_ROLES, DRAFT_ROLES, PUBLISH_ROLES, REPLY_ROLES
from kuaixiang.errors import DomainError
from kuaixiang.web.views import domain_errors

SEVERITY_COLOURS = {"blue": "primary", "yellow": "warning", "orange": "orange", "red": "danger"}
STATUS_COLOURS = {"active": "danger", "stabilising": "warning", "closed": "secondary"}


@login_required
@domain_errors
def incident_list(request):
    status = request.GET.get("status") or None
    if status not in (None, "open", *Incident.Status.values):
        status = None
    rows = selectors.incident_list(request.user, status=status, limit=200)
    role = services.actor_role(request.user)
    return render(
        request,
        "crisis/incident_list.html",
        {
            "incidents": rows,
            "status": status,
            "may_declare": role in services.DECLARE_ROLES,
            "colours": SEVERITY_COLOURS,
            "status_colours": STATUS_COLOURS,
        },
    )


@login_required
@domain_errors
def incident_new(request):
    playbooks = selectors.playbooks_current()
    context = {"playbooks": playbooks, "severities": Severity.choices, "values": {}}
    if request.method != "POST":
        return render(request, "crisis/incident_form.html", context)
    values = {k: request.POST.get(k, "") for k in ("title", "playbook", "severity", "description")}
    flags = request.POST.getlist("flags")
    try:
        incident = services.incident_open(
            playbook=values["playbook"],
            title=values["title"],
            severity=values["severity"] if values["severity"] in SEVERITIES else None,
            description=values["description"],
            flags=flags,
            actor=request.user,
        )
    except DomainError as exc:
        context.update(values=values, error=exc)
        return render(request, "crisis/incident_form.html", context, status=exc.status)
    messages.success(request, f"已启动危机事件：{incident.title}")
    return redirect("crisis:incident", incident_id=incident.pk)


@login_required
@domain_errors
def incident_detail(request, incident_id: int):
    incident = selectors.incident_get(request.user, incident_id)
    now = clock.now()
    figures = selectors.hourly_figures(incident, now=now)
    versions = selectors.scripts(incident)
    role = services.actor_role(request.user)
    chart = {
        "hours": [f.start.astimezone(clock.SHANGHAI).strftime("%m-%d %H:00") for f in figures],
        "counts": [f.count for f in figures],
        "changes": [f.change for f in figures],
    }
    return render(
        request,
        "crisis/incident_detail.html",
        {
            "incident": incident,
            "tasks": selectors.tasks_of(incident, now),
            "figures": [
                {
                    "start": f.start,
                    "end": f.start.astimezone(clock.SHANGHAI).replace(minute=59),
                    "count": f.count,
                    "change": f.change,
                    "percent": f.percent,
                }
                for f in reversed(figures)
            ],
            "chart_json": json.dumps(chart, ensure_ascii=False),
            "versions": versions,
            "current": next((v for v in versions if v.status == "published"), None),
            "links": selectors.linked_complaints(incident),
            "branches": selectors.branch_rollup(incident, now),
            "timeline": selectors.timeline(incident, 200),
            "participants": incident.participants.select_related("user"),
            "colours": SEVERITY_COLOURS,
            "status_colours": STATUS_COLOURS,
            "may": {
                "close": role in services.CLOSE_ROLES,
                "link": role in services.LINK_ROLES,
                "draft": role in DRAFT_ROLES,
                "approve": role in APPROVE_ROLES,
                "publish": role in PUBLISH_ROLES,
                "reply": role in REPLY_ROLES and not incident.sandbox,
                "push": role in services.PUSH_ROLES and incident.parent_id is None and incident.unit.parent_id is None,
                "report": role in services.REPORT_ROLES,
            },
        },
    )


def _form_data(action: str, post) -> dict:
    data: dict = {}
    required, optional, _ = ACTIONS.get(action, (frozenset(), frozenset(), ""))
    for name in required | optional:
        if name in ("complaint_id", "task_id", "version"):
            raw = post.get(name, "").strip()
            if raw:
                data[name] = int(raw) if raw.isdigit() else raw
        elif name == "branch_ids":
            ids = post.getlist("branch_ids")
            if ids:
                data[name] = [int(i) for i in ids if i.isdigit()]
        elif name == "checklist":
            if post.get("checklist_present"):
                count = int(post.get("checklist_count", "0") or 0)
                data[name] = [post.get(f"check_{i}") == "on" for i in range(count)]
        elif post.get(name, "").strip():
            data[name] = post.get(name)
    return data


@login_required
@require_POST
@domain_errors
def incident_act(request, incident_id: int, action: str):
    try:
        result = incident_action(
            incident_id=incident_id, action=action, actor=request.user, data=_form_data(action, request.POST)
        )
    except DomainError as exc:
        if exc.status == 404 and exc.code == "incident_not_found":
            raise
        messages.error(request, exc.message)
        return redirect("crisis:incident", incident_id=incident_id)
    label = ACTIONS[action][2]
    if action == "bulk_reply":
        messages.success(
            request, f"{label}：已答复 {len(result['replied'])} 件，跳过 {len(result['skipped'])} 件（状态不可答复）"
        )
    else:
        messages.success(request, f"{label}：已完成")
    return redirect("crisis:incident", incident_id=incident_id)


@login_required
@domain_errors
def incident_report(request, incident_id: int):
    name, content = reports.special_report_docx(incident_id=incident_id, actor=request.user)
    response = HttpResponse(content, content_type=DOCX)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
