"""The incident's reports: the initial report (初报) sent on activation, and the special report
(专题报告) as a Word document.

The initial report goes to the people behind the notify roles of the playbook's
``initial_report`` step, by inbox and e-mail, and to the active group-bot webhooks that
subscribe to ``incident_report`` (or to everything); a drill's stays in the inbox.
"""

import io
from datetime import datetime

from django.db.models import Q

from kuaixiang import clock
from kuaixiang.crisis.chart import bar_chart_png
from kuaixiang.crisis.criteria import deadline_verdict
from kuaixiang.crisis.models import Incident, IncidentTask, StepKind
from kuaixiang.crisis.services import (
    REPORT_ROLES,
    _require_role,
    _require_unit,
    event_add,
    incident_for_update,
    notify_roles,
    tasks_finish_kind,
)

WEBHOOK_ACTION = "incident_report"
VERDICT_LABELS = {"met": "按时完成", "missed": "未按时", "pending": "进行中", "waiting": "未起算"}


def _local(instant: datetime | None) -> str:
    return instant.astimezone(clock.SHANGHAI).strftime("%Y-%m-%d %H:%M") if instant else "—"


def initial_report_text(incident: Incident, now: datetime) -> tuple[str, str]:
    """Subject and body: the problem, its scope and the counts."""
    from kuaixiang.crisis.hourly import HOUR, hour_floor
    from kuaixiang.crisis.selectors import hourly_figures

    figures = hourly_figures(incident, now=now, first=hour_floor(now) - HOUR, last=hour_floor(now))
    last_hour = sum(f.count for f in figures[-1:])
    scope = incident.scope_label or (incident.match_category.full_name if incident.match_category_id else "")
    lines = [
        f"事件：{incident.title}",
        f"级别：{incident.get_severity_display()}　预案：{incident.playbook.name}",
        f"启动时间：{_local(incident.activated_at)}",
        f"投诉问题：{incident.description or incident.title}",
        f"影响范围：{scope or incident.unit.name}（{incident.unit.name}）",
        f"投诉量：已关联 {incident.linked_count} 件，本小时新增 {last_hour} 件",
        f"详情：/crisis/{incident.pk}/",
    ]
    prefix = "【演练】" if incident.sandbox else ""
    return f"{prefix}【危机事件初报】{incident.title}", "\n".join(lines)


def initial_report_send(*, incident: Incident, actor, now: datetime) -> int:
    """Queue the initial report (inside the caller's transaction) and finish the report task."""
    from kuaixiang.notify.models import WebhookEndpoint

    step = incident.playbook.steps.filter(kind=StepKind.INITIAL_REPORT).first()
    roles = list(step.notify_roles) if step and step.notify_roles else [r.key for r in incident.playbook.roles.all()]
    hooks = [
        hook
        for hook in WebhookEndpoint.objects.filter(active=True).filter(
            Q(department__isnull=True) | Q(department_id=incident.unit_id)
        )
        if not hook.actions or WEBHOOK_ACTION in hook.actions
    ]
    labels = dict(incident.playbook.roles.values_list("key", "label"))
    subject, body = initial_report_text(incident, now)
    sent = notify_roles(incident, roles, subject=subject, body=body, webhooks=hooks)
    event_add(
        incident,
        kind="initial_report",
        message=f"初报已发出（{sent} 条消息，收件：{'、'.join(labels.get(r, r) for r in roles)}）",
        actor=actor,
        payload={"roles": roles, "messages": sent, "webhooks": len(hooks) if not incident.sandbox else 0},
        at=now,
    )
    tasks_finish_kind(incident, StepKind.INITIAL_REPORT, actor=actor, now=now, note="系统发出初报")
    return sent


def initial_report_resend(*, incident_id: int, actor) -> int:
    """Send the initial report again with today's counts (a manager, PR or leader of the unit)."""
    from django.db import transaction

    with transaction.atomic():
        incident = incident_for_update(incident_id, actor)
        _require_role(actor, REPORT_ROLES, "只有投诉管理员、公关、领导可以发送初报")
        _require_unit(actor, incident)
        return initial_report_send(incident=incident, actor=actor, now=clock.now())


def special_report_docx(*, incident_id: int, actor) -> tuple[str, bytes]:
    """Build the special report as a .docx (file name, bytes) and finish the special-report task.

    Sections: 一、事件概况 (cause), 二、影响范围, 三、事件经过 (timeline), 四、处置情况 (handling:
    tasks, scripts, branches), 五、投诉量逐小时变化 (table and bar chart), 六、整改措施,
    七、责任认定, 八、时限执行情况 (each step's deadline met or missed)."""
    from django.db import transaction

    with transaction.atomic():
        incident = incident_for_update(incident_id, actor)
        _require_role(actor, REPORT_ROLES, "只有投诉管理员、公关、领导可以生成专题报告")
        _require_unit(actor, incident)
        now = clock.now()
        if incident.status == Incident.Status.CLOSED:
            tasks_finish_kind(incident, StepKind.SPECIAL_REPORT, actor=actor, now=now, note="专题报告已生成")
        event_add(incident, kind="special_report", message="生成专题报告（Word）", actor=actor, at=now)
        content = _document(incident, now)
    return f"incident-{incident.pk}-report.docx", content


def _document(incident: Incident, now: datetime) -> bytes:
    from docx import Document
    from docx.shared import Cm, Pt

    from kuaixiang.crisis import selectors
    from kuaixiang.crisis.scripts import script_current

    doc = Document()
    style = doc.styles["Normal"]
    style.font.size = Pt(11)
    doc.add_heading(f"{incident.title} 专题报告", level=0)
    meta = doc.add_table(rows=0, cols=2)
    meta.style = "Table Grid"
    for label, value in (
        ("预案", f"{incident.playbook.name}（{incident.playbook.code} v{incident.playbook.version}）"),
        ("级别", incident.get_severity_display()),
        ("状态", incident.get_status_display()),
        ("单位", incident.unit.name),
        ("启动时间", _local(incident.activated_at)),
        ("结束时间", _local(incident.closed_at)),
        ("关联投诉", f"{incident.linked_count} 件"),
        ("生成时间", _local(now)),
    ):
        cells = meta.add_row().cells
        cells[0].text, cells[1].text = label, value
    if incident.sandbox:
        doc.add_paragraph("本报告为演练数据，不涉及真实客户。")

    doc.add_heading("一、事件概况与原因", level=1)
    doc.add_paragraph(incident.description or "（未填写情况说明）")
    doc.add_paragraph(f"事件原因：{incident.cause or '（待填写）'}")

    doc.add_heading("二、影响范围", level=1)
    scope = incident.scope_label or (incident.match_category.full_name if incident.match_category_id else "")
    doc.add_paragraph(f"{scope or incident.unit.name}；共关联投诉 {incident.linked_count} 件。")
    rollup = selectors.branch_rollup(incident, now)
    if rollup:
        table = doc.add_table(rows=1, cols=4)
        table.style = "Table Grid"
        for cell, text in zip(table.rows[0].cells, ("分公司", "状态", "任务完成", "关联投诉"), strict=True):
            cell.text = text
        for row in rollup:
            cells = table.add_row().cells
            cells[0].text, cells[1].text = row["branch"], row["status_label"]
            cells[2].text, cells[3].text = f"{row['tasks_done']}/{row['tasks_total']}", str(row["linked"])

    doc.add_heading("三、事件经过", level=1)
    for event in reversed(selectors.timeline(incident)):
        if event.kind == "hourly":
            continue
        doc.add_paragraph(f"{_local(event.at)}　{event.message}", style="List Bullet")

    doc.add_heading("四、处置情况", level=1)
    tasks = selectors.tasks_of(incident, now)
    for task in tasks:
        done = f"{_local(task['done_at'])} 完成" if task["done_at"] else "未完成"
        doc.add_paragraph(
            f"{task['title']}：{done}" + (f"（{task['note']}）" if task["note"] else ""), style="List Bullet"
        )
    script = script_current(incident)
    if script is not None:
        doc.add_paragraph(f"统一解释口径（第 {script.number} 版，{_local(script.published_at)} 发布）：")
        doc.add_paragraph(script.content)
    replied = incident.links.filter(replied_with__isnull=False).count()
    doc.add_paragraph(f"按口径答复工单 {replied} 件。")

    doc.add_heading("五、投诉量逐小时变化", level=1)
    figures = selectors.hourly_figures(incident, now=now)
    doc.add_picture(io.BytesIO(bar_chart_png([f.count for f in figures])), width=Cm(16))
    table = doc.add_table(rows=1, cols=4)
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, ("时段", "新增投诉", "较前一小时", "变动幅度"), strict=True):
        cell.text = text
    for figure in figures:
        cells = table.add_row().cells
        cells[0].text = figure.start.astimezone(clock.SHANGHAI).strftime("%m-%d %H:00")
        cells[1].text = str(figure.count)
        cells[2].text = f"{figure.change:+d}"
        cells[3].text = f"{figure.percent:+.1f}%" if figure.percent is not None else "—"

    doc.add_heading("六、整改措施", level=1)
    doc.add_paragraph(incident.measures or "（待填写）")

    doc.add_heading("七、责任认定", level=1)
    doc.add_paragraph(incident.responsibility or "（待填写；必要时召开定责分析会）")

    doc.add_heading("八、时限执行情况", level=1)
    table = doc.add_table(rows=1, cols=4)
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, ("步骤", "时限", "完成时间", "结果"), strict=True):
        cell.text = text
    for task in IncidentTask.objects.filter(incident=incident).order_by("order", "id"):
        cells = table.add_row().cells
        cells[0].text, cells[1].text, cells[2].text = task.title, _local(task.due_at), _local(task.done_at)
        cells[3].text = VERDICT_LABELS[deadline_verdict(task.due_at, task.done_at, now)]

    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
