"""Drill pages (演练): list and start, the running drill with its clock and steps, the report.

Thin: parse the request, call the drill services/selectors, render. Refusals show their Chinese
message with their status."""

from __future__ import annotations

from datetime import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from kuaixiang.drills import selectors, services
from kuaixiang.drills.documents import drills_report_docx
from kuaixiang.drills.models import Drill
from kuaixiang.errors import DomainError, Forbidden, InvalidInput
from kuaixiang.web.views import domain_errors


def _playbook_choices():
    from kuaixiang.crisis.models import Playbook

    newest: dict[str, str] = {}
    for code, name in Playbook.objects.filter(active=True).order_by("code", "-version").values_list("code", "name"):
        newest.setdefault(code, f"{name}（{code}）")
    return sorted(newest.items())


class DrillForm(forms.Form):
    playbook = forms.ChoiceField(label="预案", initial="telecom_crisis")
    title = forms.CharField(label="标题", max_length=200, required=False)
    kind = forms.ChoiceField(label="场景", choices=Drill.Scenario.choices, initial=Drill.Scenario.SYNTHETIC)
    category = forms.CharField(label="突增分类（路径）", max_length=200, initial=services.DEFAULT_BURST_CATEGORY)
    burst = forms.IntegerField(label="突增件数", min_value=1, max_value=2000, initial=120)
    burst_minutes = forms.IntegerField(label="突增持续（分钟）", min_value=5, max_value=720, initial=60)
    background_per_hour = forms.IntegerField(label="背景量（件/小时）", min_value=0, max_value=500, initial=20)
    hours = forms.IntegerField(label="背景时长（小时）", min_value=1, max_value=48, initial=3)
    csv = forms.FileField(label="历史回放 CSV（received_at,channel,category,text[,phone]）", required=False)
    speed = forms.FloatField(label="时钟倍速", min_value=1, max_value=services.MAX_SPEED, initial=60)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["playbook"].choices = _playbook_choices()

    def scenario(self) -> dict:
        data = self.cleaned_data
        if data["kind"] == Drill.Scenario.RECORDED:
            upload = data.get("csv")
            if upload is None:
                raise InvalidInput("invalid_scenario", "历史回放需要上传 CSV 文件")
            if upload.size > services.MAX_CSV_BYTES:
                raise InvalidInput("invalid_scenario", "CSV 文件不能超过 5 MB")
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise InvalidInput("invalid_scenario", "CSV 文件应为 UTF-8 编码") from exc
            return {"kind": Drill.Scenario.RECORDED, "csv": text}
        keys = ("category", "burst", "burst_minutes", "background_per_hour", "hours")
        return {"kind": Drill.Scenario.SYNTHETIC, **{k: data[k] for k in keys}}


@login_required
@domain_errors
def drill_list(request):
    """Every drill, and the form to start one (for drill managers)."""
    can_manage = services.drill_can_manage(request.user)
    form = DrillForm(request.POST or None, request.FILES or None) if can_manage else None
    status = 200
    if request.method == "POST":
        if not can_manage:
            raise Forbidden("drill_forbidden", "只有投诉管理员、领导或系统管理员可以组织演练")
        if form.is_valid():
            try:
                drill = services.drill_start(
                    playbook=form.cleaned_data["playbook"],
                    scenario=form.scenario(),
                    speed=form.cleaned_data["speed"],
                    title=form.cleaned_data["title"],
                    actor=request.user,
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
                status = exc.status
            else:
                messages.success(request, f"演练已开始：回放 {drill.registered} 件投诉")
                return redirect("drills:detail", drill_id=drill.pk)
        else:
            status = 400
    running = Drill.objects.filter(status=Drill.Status.RUNNING).first()
    context = {"drills": selectors.drills_list(), "form": form, "can_manage": can_manage, "running": running}
    return render(request, "drills/drill_list.html", context, status=status)


@login_required
@domain_errors
def drill_detail(request, drill_id: int):
    drill = selectors.drill_get(drill_id)
    now = services.drill_now(drill)
    steps = selectors.drill_steps(drill, at=now)
    for step in steps:
        step["can_do"] = (
            drill.status == Drill.Status.RUNNING
            and step["state"] == "open"
            and step["task_id"] is not None
            and (services.drill_can_manage(request.user) or _owner(request.user, drill, step))
        )
    roles = dict(drill.playbook.roles.values_list("key", "label"))
    for step in steps:
        step["owner_label"] = roles.get(step["owner_role"], step["owner_role"])
    warnings = [{**w, "raised_at": datetime.fromisoformat(w["raised_at"])} for w in drill.warnings]
    context = {
        "drill": drill,
        "drill_now": now,
        "steps": steps,
        "warnings": warnings,
        "can_manage": services.drill_can_manage(request.user),
        "incident": drill.incident,
    }
    return render(request, "drills/drill_detail.html", context)


def _owner(user, drill, step) -> bool:
    from kuaixiang.crisis.models import IncidentTask

    task = IncidentTask.objects.select_related("incident__playbook").get(pk=step["task_id"])
    return services.drill_can_do_task(user, task)


def _act(request, drill_id: int, done: str, writer, **kwargs):
    """Call ``writer(drill_id=…, actor=…, **kwargs)``; show its refusal or ``done`` on the drill page."""
    try:
        writer(drill_id=drill_id, actor=request.user, **kwargs)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("drills:detail", drill_id=drill_id)


@login_required
@require_POST
def task_done(request, drill_id: int, task_id: int):
    note = request.POST.get("note", "")
    return _act(request, drill_id, "已记录完成时间", services.drill_task_done, task_id=task_id, note=note)


@login_required
@require_POST
def advance(request, drill_id: int):
    raw = request.POST.get("minutes", "")
    minutes = int(raw) if raw.isdigit() and len(raw) < 7 else 0
    return _act(request, drill_id, f"演练时钟已快进 {minutes} 分钟", services.drill_advance, minutes=minutes)


@login_required
@require_POST
def incident_action(request, drill_id: int, action: str):
    done = {"stabilise": "演练事件已转为趋稳观察", "close": "演练事件已结束"}.get(action, "")
    return _act(request, drill_id, done, services.drill_incident_action, action=action)


@login_required
@require_POST
def finish(request, drill_id: int):
    notes = request.POST.get("notes", "")
    return _act(request, drill_id, "演练已结束并完成评分", services.drill_finish, notes=notes)


@login_required
def report(request):
    rows = selectors.report_rows()
    context = {"rows": rows, "chart": selectors.chart_series(rows)}
    return render(request, "drills/report.html", context)


@login_required
def report_docx(request):
    response = HttpResponse(
        drills_report_docx(),
        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    response["Content-Disposition"] = 'attachment; filename="drills-report.docx"'
    return response
