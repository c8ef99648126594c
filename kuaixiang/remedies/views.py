"""HTML pages for remedies, approvals, the authority matrix, 8D and accountability. Thin: they call
the same services and selectors as the API; a refusal is shown with its Chinese message and status."""

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from kuaixiang import clock
from kuaixiang.complaints.selectors import complaint_detail
from kuaixiang.errors import DomainError, InvalidInput
from kuaixiang.org.models import Staff
from kuaixiang.remedies import accountability, capa, documents, selectors, services
from kuaixiang.remedies.models import CapaKind, RemedyState, RemedyType, Responsibility
from kuaixiang.web.views import domain_errors, error_page

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _staff_choices():
    return Staff.objects.filter(user__is_active=True).select_related("user", "department").order_by("department__path")


def _form_errors(exc: InvalidInput) -> list[str]:
    fields = exc.details.get("fields")
    if fields:
        return [f"{f['field']}：{f['message']}" if f["field"] else f["message"] for f in fields]
    return [exc.message]


# ---------------------------------------------------------------- remedy request and detail


@login_required
@domain_errors
def remedy_new(request, complaint_id: int):
    """申请补偿/退费 on a complaint: GET the form, POST it (errors re-render it with status 400/409)."""
    complaint = complaint_detail(request.user, complaint_id)
    context = {
        "complaint": complaint,
        "types": RemedyType.choices,
        "responsibilities": Responsibility.choices,
        "values": {},
    }
    if request.method != "POST":
        return render(request, "remedies/remedy_form.html", context)
    data = {
        "type": request.POST.get("type", ""),
        "amount": request.POST.get("amount", "").strip() or None,
        "responsibility": request.POST.get("responsibility", ""),
        "justification": request.POST.get("justification", ""),
        "policy_exception": request.POST.get("policy_exception") == "on",
    }
    try:
        remedy = services.remedy_request(complaint_id=complaint.pk, actor=request.user, data=data)
    except DomainError as exc:
        if exc.status == 404:
            raise
        context.update(
            values=request.POST, errors=_form_errors(exc) if isinstance(exc, InvalidInput) else [exc.message]
        )
        return render(request, "remedies/remedy_form.html", context, status=exc.status)
    if remedy.state == RemedyState.APPROVED:
        messages.success(request, "在您的权限内，已直接批准。")
    else:
        messages.info(request, f"超出您的权限，已提交审批：{remedy.chain_name}。")
    return redirect("remedies:detail", remedy_id=remedy.pk)


@login_required
@domain_errors
def remedy_detail(request, remedy_id: int):
    remedy = selectors.remedy_detail(request.user, remedy_id)
    step = selectors.current_step(remedy)
    may_decide = False
    if step is not None:
        may_decide, _ = services.acting_for(step, request.user, services.local_today())
    return render(
        request,
        "remedies/remedy_detail.html",
        {
            "r": remedy,
            "step": step,
            "may_decide": may_decide,
            "is_requester": remedy.requested_by_id == request.user.pk,
        },
    )


@login_required
@require_POST
@domain_errors
def remedy_decide(request, remedy_id: int, action: str):
    services.remedy_decide(
        remedy_id=remedy_id, actor=request.user, action=action, comment=request.POST.get("comment", "")
    )
    messages.success(request, f"已{services.ACTION_LABELS.get(action, action)}。")
    if request.POST.get("next") == "inbox":
        return redirect("remedies:approvals")
    return redirect("remedies:detail", remedy_id=remedy_id)


@login_required
@require_POST
@domain_errors
def remedy_execute(request, remedy_id: int):
    services.remedy_execute(remedy_id=remedy_id, actor=request.user, note=request.POST.get("note", ""))
    messages.success(request, "已登记执行。")
    return redirect("remedies:detail", remedy_id=remedy_id)


@login_required
@require_POST
@domain_errors
def remedy_resubmit(request, remedy_id: int):
    raw = request.POST.get("amount", "").strip()
    try:
        amount = Decimal(raw) if raw else None
    except InvalidOperation:
        raise InvalidInput("not_a_number", "金额应为数字", {"field": "amount"}) from None
    services.remedy_resubmit(
        remedy_id=remedy_id,
        actor=request.user,
        amount=amount,
        justification=request.POST.get("justification") or None,
    )
    messages.success(request, "已重新提交。")
    return redirect("remedies:detail", remedy_id=remedy_id)


@login_required
@require_POST
@domain_errors
def remedy_cancel(request, remedy_id: int):
    services.remedy_cancel(remedy_id=remedy_id, actor=request.user, comment=request.POST.get("comment", ""))
    messages.success(request, "已撤销。")
    return redirect("remedies:detail", remedy_id=remedy_id)


# ---------------------------------------------------------------- approvals inbox and delegation


@login_required
@domain_errors
def inbox(request):
    """待我审批: the steps waiting for me (or for someone I stand in for today), oldest deadline first."""
    steps = selectors.approvals_waiting(request.user)
    return render(request, "remedies/inbox.html", {"steps": steps, "now": clock.now()})


def _date(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise InvalidInput("not_a_date", "日期格式应为 YYYY-MM-DD", {"field": field}) from None


@login_required
@domain_errors
def delegations(request):
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        try:
            delegate = request.POST.get("delegate_id", "")
            if not delegate.isdigit():
                raise InvalidInput("unknown_delegate", "请选择代理人", {"field": "delegate_id"})
            services.delegation_create(
                actor=request.user,
                delegate_id=int(delegate),
                starts_on=_date(request.POST.get("starts_on"), "starts_on"),
                ends_on=_date(request.POST.get("ends_on"), "ends_on"),
                note=request.POST.get("note", ""),
            )
            messages.success(request, "委托已设置。")
            return redirect("remedies:delegations")
        except InvalidInput as exc:
            errors, status = [exc.message], exc.status
    return render(
        request,
        "remedies/delegations.html",
        {
            "rows": selectors.delegations_of(request.user),
            "staff": _staff_choices().exclude(user=request.user),
            "errors": errors,
            "today": services.local_today(),
        },
        status=status,
    )


@login_required
@require_POST
@domain_errors
def delegation_end(request, delegation_id: int):
    services.delegation_end(actor=request.user, delegation_id=delegation_id)
    messages.success(request, "委托已取消。")
    return redirect("remedies:delegations")


# ---------------------------------------------------------------- matrix and report


@login_required
@domain_errors
def authority_matrix(request):
    return render(request, "remedies/matrix.html", selectors.matrix())


def _report_range(request) -> tuple[date | None, date | None]:
    first = request.GET.get("from") or None
    last = request.GET.get("to") or None
    return (_date(first, "from") if first else None, _date(last, "to") if last else None)


@login_required
@domain_errors
def report(request):
    first, last = _report_range(request)
    data = selectors.remedies_report(request.user, first=first, last=last)
    data.update(first=first, last=last, query=request.GET.urlencode())
    return render(request, "remedies/report.html", data)


@login_required
@domain_errors
def report_xlsx(request):
    first, last = _report_range(request)
    content = documents.remedies_xlsx(selectors.remedies_report(request.user, first=first, last=last))
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="remedies-{clock.local_now():%Y%m%d}.xlsx"'
    return response


# ---------------------------------------------------------------- 8D


@login_required
@domain_errors
def eightd_list(request):
    rows = capa.eightd_visible(request.user).select_related("champion", "department").prefetch_related("complaints")
    return render(request, "remedies/eightd_list.html", {"rows": rows.order_by("-created_at")[:200]})


@login_required
@domain_errors
def eightd_new(request):
    complaint_ids = request.POST.getlist("complaint_ids") or request.GET.getlist("complaint")
    context = {"complaint_ids": complaint_ids, "values": request.POST}
    if request.method != "POST":
        context["complaints"] = [complaint_detail(request.user, int(i)) for i in complaint_ids if i.isdigit()]
        return render(request, "remedies/eightd_new.html", context)
    numbers = [n.strip() for n in request.POST.get("numbers", "").replace("，", ",").split(",") if n.strip()]
    if numbers:
        from kuaixiang.complaints.selectors import complaints_visible

        complaint_ids = complaint_ids + [
            str(pk) for pk in complaints_visible(request.user).filter(number__in=numbers).values_list("pk", flat=True)
        ]
    try:
        row = capa.eightd_open(
            actor=request.user,
            complaint_ids=complaint_ids,
            title=request.POST.get("title", ""),
            product=request.POST.get("product", ""),
        )
    except InvalidInput as exc:
        context["errors"] = [exc.message]
        context["complaints"] = []
        return render(request, "remedies/eightd_new.html", context, status=400)
    return redirect("remedies:eightd", eightd_id=row.pk)


@login_required
@domain_errors
def eightd_detail(request, eightd_id: int):
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        data = {f: request.POST.get(f, "") for f in capa.TEXT_FIELDS + capa.COUNT_FIELDS if f in request.POST}
        if "team_ids" in request.POST:
            data["team_ids"] = request.POST.getlist("team_ids")
        try:
            capa.eightd_update(actor=request.user, eightd_id=eightd_id, data=data)
            messages.success(request, "已保存。")
            return redirect("remedies:eightd", eightd_id=eightd_id)
        except InvalidInput as exc:
            errors, status = [exc.message], 400
    row = capa.eightd_get(request.user, eightd_id)
    return render(
        request,
        "remedies/eightd_detail.html",
        {
            "e": row,
            "actions": row.actions.select_related("owner").order_by("due_at", "id"),
            "team_ids": set(row.team.values_list("pk", flat=True)),
            "staff": _staff_choices(),
            "kinds": CapaKind.choices,
            "errors": errors,
            "now": clock.now(),
        },
        status=status,
    )


@login_required
@require_POST
@domain_errors
def capa_add(request, eightd_id: int):
    due_raw = request.POST.get("due_at", "").strip()
    due = None
    if due_raw:
        try:
            due = datetime.fromisoformat(due_raw).replace(tzinfo=clock.SHANGHAI)
        except ValueError:
            raise InvalidInput("not_a_datetime", "完成时限格式有误", {"field": "due_at"}) from None
    owner = request.POST.get("owner_id", "")
    capa.capa_action_add(
        actor=request.user,
        eightd_id=eightd_id,
        kind=request.POST.get("kind", ""),
        description=request.POST.get("description", ""),
        owner_id=int(owner) if owner.isdigit() else 0,
        due_at=due,
    )
    messages.success(request, "措施已添加。")
    return redirect("remedies:eightd", eightd_id=eightd_id)


@login_required
@require_POST
@domain_errors
def capa_done(request, action_id: int):
    action = capa.capa_action_complete(
        actor=request.user,
        action_id=action_id,
        verified=request.POST.get("verified") == "on",
        verification=request.POST.get("verification", ""),
    )
    return redirect("remedies:eightd", eightd_id=action.eightd_id)


@login_required
@require_POST
@domain_errors
def eightd_close(request, eightd_id: int):
    capa.eightd_close(actor=request.user, eightd_id=eightd_id)
    messages.success(request, "8D 报告已关闭。")
    return redirect("remedies:eightd", eightd_id=eightd_id)


@login_required
@domain_errors
def eightd_docx(request, eightd_id: int):
    row = capa.eightd_get(request.user, eightd_id)
    response = HttpResponse(documents.eightd_docx(row), content_type=DOCX)
    response["Content-Disposition"] = f'attachment; filename="{row.number}.docx"'
    return response


# ---------------------------------------------------------------- accountability


@login_required
@domain_errors
def accountability_list(request):
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        person = request.POST.get("person_id", "")
        complaint = request.POST.get("complaint_id", "").strip()
        try:
            accountability.accountability_record(
                actor=request.user,
                person_id=int(person) if person.isdigit() else 0,
                finding=request.POST.get("finding", ""),
                fine=request.POST.get("fine") or 0,
                zero_performance=request.POST.get("zero_performance") == "on",
                complaint_id=int(complaint) if complaint.isdigit() else None,
            )
            messages.success(request, "责任追究已登记，待领导批准。")
            return redirect("remedies:accountability")
        except DomainError as exc:
            if exc.status not in (400, 403):
                raise
            errors, status = [exc.message], exc.status
    month = None
    if request.GET.get("month"):
        month = _date(request.GET["month"] + "-01", "month")
    rows = (
        accountability.accountability_visible(request.user)
        .select_related("person", "department", "manager", "approved_by", "complaint")
        .order_by("-created_at")[:200]
    )
    return render(
        request,
        "remedies/accountability.html",
        {
            "rows": rows,
            "report": accountability.accountability_report(request.user, month=month),
            "staff": _staff_choices(),
            "errors": errors,
            "month": request.GET.get("month", ""),
        },
        status=status,
    )


@login_required
@require_POST
@domain_errors
def accountability_approve(request, accountability_id: int):
    try:
        accountability.accountability_approve(actor=request.user, accountability_id=accountability_id)
    except DomainError as exc:
        return error_page(request, exc)
    messages.success(request, "已批准。")
    return redirect("remedies:accountability")
