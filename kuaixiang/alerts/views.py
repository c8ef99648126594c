"""Monitoring board (监控大屏), warnings list and detail with the lifecycle actions. Thin views:
the same selectors and services as the API."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from kuaixiang.alerts import selectors, services
from kuaixiang.alerts.models import Warning
from kuaixiang.errors import InvalidInput
from kuaixiang.org.models import Department
from kuaixiang.org.scope import SANDBOX_CODE
from kuaixiang.web.views import domain_errors

LIST_ROWS = 100


@login_required
def board(request):
    return render(request, "alerts/board.html", {"data": selectors.board_data(user=request.user)})


@login_required
def board_json(request):
    """The board's figures as JSON; the page fetches it every 30 seconds."""
    return JsonResponse(selectors.board_data(user=request.user), json_dumps_params={"ensure_ascii": False})


@login_required
@domain_errors
def warning_list(request):
    status = request.GET.get("status") or None
    if status and status not in Warning.Status.values:
        raise InvalidInput("invalid_filter", "状态无效", {"status": status[:50]})
    sandbox = request.GET.get("sandbox") == "1"
    qs = selectors.warnings_list(user=request.user, status=status, sandbox=sandbox)
    return render(
        request,
        "alerts/warnings.html",
        {
            "warnings": list(qs[:LIST_ROWS]),
            "status": status or "",
            "sandbox": sandbox,
            "statuses": Warning.Status.choices,
        },
    )


@login_required
@domain_errors
def warning_detail(request, warning_id: int):
    warning = selectors.warning_get(user=request.user, warning_id=warning_id)
    if warning is None:
        raise Http404
    return render(
        request,
        "alerts/warning.html",
        {
            "w": warning,
            "events": selectors.warning_timeline(warning),
            "complaints": selectors.warning_complaints(warning, user=request.user),
            "departments": Department.objects.filter(active=True)
            .exclude(code__startswith=SANDBOX_CODE)
            .order_by("path")
            if not warning.sandbox
            else Department.objects.filter(code__startswith=SANDBOX_CODE),
        },
    )


@login_required
@require_POST
@domain_errors
def warning_action(request, warning_id: int, action: str):
    post = request.POST
    if action == "acknowledge":
        services.warning_acknowledge(warning_id=warning_id, actor=request.user, note=post.get("note", ""))
    elif action == "assign":
        raw = post.get("department_id", "")
        if not raw.isdigit():
            raise InvalidInput("department_required", "请指定责任部门")
        services.warning_assign(
            warning_id=warning_id, actor=request.user, department_id=int(raw), note=post.get("note", "")
        )
    elif action == "link":
        raw = [x for x in post.get("complaint_ids", "").replace("，", ",").replace(" ", ",").split(",") if x]
        if not all(x.isdigit() and len(x) < 19 for x in raw):
            raise InvalidInput("complaint_ids_invalid", "工单 id 应为数字，用逗号分隔")
        services.warning_link(warning_id=warning_id, actor=request.user, complaint_ids=[int(x) for x in raw])
    elif action == "resolve":
        services.warning_resolve(warning_id=warning_id, actor=request.user, cause=post.get("cause", ""))
    else:
        raise Http404
    messages.success(request, "已处理")
    return redirect("alerts:warning", warning_id=warning_id)
