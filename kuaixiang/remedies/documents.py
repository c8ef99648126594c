"""Exports: the remedies report as Excel (openpyxl) and an 8D report as Word (python-docx)."""

from io import BytesIO

from docx import Document
from docx.shared import Pt
from openpyxl import Workbook
from openpyxl.styles import Font

from kuaixiang import clock
from kuaixiang.remedies.models import EightD, RemedyType, Responsibility

TYPE_LABELS = dict(RemedyType.choices)
RESPONSIBILITY_LABELS = dict(Responsibility.choices)


def _local(value) -> str:
    return value.astimezone(clock.SHANGHAI).strftime("%Y-%m-%d %H:%M") if value else ""


def remedies_xlsx(report: dict) -> bytes:
    """Workbook with a summary sheet (per type, responsibility, unit, month) and the executed remedies."""
    book = Workbook()
    summary = book.active
    summary.title = "汇总"
    bold = Font(bold=True)

    def block(title: str, rows: list[dict], key: str, label) -> None:
        summary.append([title, "笔数", "金额（元）"])
        for cell in summary[summary.max_row]:
            cell.font = bold
        for row in rows:
            summary.append([label(row[key]), row["count"], float(row["total"] or 0)])
        summary.append([])

    block("按类型", report["by_type"], "type", lambda v: str(TYPE_LABELS.get(v, v)))
    block("按责任认定", report["by_responsibility"], "responsibility", lambda v: str(RESPONSIBILITY_LABELS.get(v, v)))
    block("按单位", report["by_unit"], "unit__name", str)
    block("按月份", report["by_month"], "month", lambda v: v.astimezone(clock.SHANGHAI).strftime("%Y-%m") if v else "")
    summary.append(["合计", report["count"], float(report["total"])])
    summary.column_dimensions["A"].width = 24
    summary.column_dimensions["C"].width = 16

    detail = book.create_sheet("明细")
    detail.append(["工单号", "类型", "金额（元）", "责任认定", "单位", "申请人", "执行时间", "理由"])
    for cell in detail[1]:
        cell.font = bold
    for r in report["items"]:
        detail.append(
            [
                r.complaint.number,
                str(r.get_type_display()),
                float(r.amount),
                str(r.get_responsibility_display()),
                r.unit.name,
                r.requested_by.get_full_name() or r.requested_by.username,
                _local(r.executed_at),
                r.justification,
            ]
        )
    for column, width in zip("ABCDEFGH", (20, 10, 12, 12, 14, 12, 18, 40), strict=True):
        detail.column_dimensions[column].width = width
    out = BytesIO()
    book.save(out)
    return out.getvalue()


SECTIONS = (
    ("D2 问题描述", "d2_problem"),
    ("D3 临时围堵措施", "d3_containment"),
    ("D4 根本原因分析", "d4_root_cause"),
    ("D5 永久纠正措施", "d5_corrective"),
    ("D6 实施与效果验证", "d6_verification"),
    ("D7 预防再发与标准化", "d7_prevention"),
    ("D8 总结、表彰与客户满意度跟踪", "d8_closure"),
)


def eightd_docx(row: EightD) -> bytes:
    """The 8D report as a Word document: header, D1 team, D2–D8 and the action table."""
    document = Document()
    style = document.styles["Normal"]
    style.font.name = "SimSun"
    style.font.size = Pt(10.5)
    document.add_heading(f"8D 报告 {row.number}", level=0)
    document.add_paragraph(f"标题：{row.title}")
    if row.product:
        document.add_paragraph(f"产品/批次：{row.product}")
    complaints = "、".join(c.number for c in row.complaints.order_by("number"))
    document.add_paragraph(f"关联投诉：{complaints}")
    document.add_paragraph(f"责任部门：{row.department.name}    状态：{row.get_state_display()}")
    document.add_heading("D1 小组", level=1)
    champion = row.champion.get_full_name() or row.champion.username
    team = "、".join(u.get_full_name() or u.username for u in row.team.order_by("pk"))
    document.add_paragraph(f"组长：{champion}；成员：{team}")
    for title, field in SECTIONS:
        document.add_heading(title, level=1)
        document.add_paragraph(getattr(row, field) or "（未填写）")
        if field == "d3_containment":
            document.add_paragraph(f"排查库存 {row.stock_checked} 件，隔离不良 {row.stock_isolated} 件。")
    actions = list(row.actions.select_related("owner").order_by("due_at", "id"))
    document.add_heading("纠正与预防措施", level=1)
    table = document.add_table(rows=1, cols=6)
    table.style = "Table Grid"
    for cell, text in zip(
        table.rows[0].cells, ("类型", "措施", "负责人", "完成时限", "完成时间", "效果验证"), strict=True
    ):
        cell.text = text
    for action in actions:
        cells = table.add_row().cells
        values = (
            str(action.get_kind_display()),
            action.description,
            action.owner.get_full_name() or action.owner.username,
            _local(action.due_at),
            _local(action.done_at),
            ("已验证：" if action.verified else "") + action.verification,
        )
        for cell, text in zip(cells, values, strict=True):
            cell.text = text
    document.add_paragraph(f"生成时间：{clock.local_now():%Y-%m-%d %H:%M}")
    out = BytesIO()
    document.save(out)
    return out.getvalue()
