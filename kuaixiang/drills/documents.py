"""The drill comparison report as a Word document (python-docx)."""

from __future__ import annotations

import io
from datetime import datetime

from kuaixiang import clock
from kuaixiang.drills.selectors import drill_steps, report_rows


def _local(at: datetime | None) -> str:
    return at.astimezone(clock.SHANGHAI).strftime("%Y-%m-%d %H:%M") if at else "—"


def _minutes(seconds: float | None) -> str:
    if seconds is None:
        return ""
    minutes = seconds / 60
    return f"{minutes:.0f} 分钟" if minutes < 120 else f"{minutes / 60:.1f} 小时"


def drills_report_docx() -> bytes:
    """演练评估报告: a table comparing every finished drill (score, steps met/late/missed), a bar
    chart of the scores in order, then each drill's steps with deadline, completion and result."""
    from docx import Document
    from docx.shared import Cm, Pt

    from kuaixiang.crisis.chart import bar_chart_png

    rows = report_rows()
    doc = Document()
    doc.styles["Normal"].font.size = Pt(10.5)
    doc.add_heading("应急演练评估报告", level=0)
    doc.add_paragraph(
        f"生成时间：{_local(clock.now())}；共 {len(rows)} 次已结束的演练。演练在沙箱机构中进行，不涉及真实客户。"
    )
    doc.add_heading("一、历次演练对比", level=1)
    table = doc.add_table(rows=1, cols=8)
    table.style = "Table Grid"
    header = ("开始时间", "预案", "场景", "启动方式", "按时", "超时", "未完成", "得分")
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = text
    for row in rows:
        drill = row["drill"]
        cells = table.add_row().cells
        values = (
            _local(drill.started_at),
            drill.playbook.name,
            drill.get_scenario_kind_display(),
            drill.get_activation_display(),
            str(row["met"]),
            str(row["late"]),
            str(row["missed"]),
            "—" if drill.score is None else f"{drill.score:.1f}",
        )
        for cell, text in zip(cells, values, strict=True):
            cell.text = text
    scores = [round(r["drill"].score) for r in rows if r["drill"].score is not None]
    if scores:
        doc.add_paragraph("历次得分（按时间顺序）：")
        doc.add_picture(io.BytesIO(bar_chart_png(scores)), width=Cm(15))
    doc.add_heading("二、各次演练步骤", level=1)
    for row in rows:
        drill = row["drill"]
        doc.add_heading(f"{drill.title}（{_local(drill.started_at)}）", level=2)
        doc.add_paragraph(
            f"预案：{drill.playbook.name}（{drill.playbook.code} v{drill.playbook.version}）；"
            f"回放 {drill.registered} 件投诉，{drill.get_activation_display()}；时钟倍速 {drill.speed:g}×；"
            f"得分 {'—' if drill.score is None else f'{drill.score:.1f}'}。"
        )
        steps = doc.add_table(rows=1, cols=5)
        steps.style = "Table Grid"
        for cell, text in zip(steps.rows[0].cells, ("步骤", "时限", "完成", "结果", "得分"), strict=True):
            cell.text = text
        for step in drill_steps(drill):
            cells = steps.add_row().cells
            result = step["outcome_label"] + (
                f"（超时 {_minutes(step['late_seconds'])}）" if step["late_seconds"] else ""
            )
            values = (
                step["title"],
                _local(step["due_at"]),
                _local(step["done_at"]),
                result,
                "—" if step["points"] is None else f"{step['points']:.0f}",
            )
            for cell, text in zip(cells, values, strict=True):
                cell.text = text
        if drill.notes:
            doc.add_paragraph(f"评估意见：{drill.notes}")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
