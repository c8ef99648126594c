"""Excel export of the supervision board (openpyxl): a summary sheet and a detail sheet."""

from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from kuaixiang import clock
from kuaixiang.sla.selectors import BOARD_STATE_LABELS

HEADER = Font(bold=True)
OVERDUE = PatternFill("solid", fgColor="F8D7DA")
WARNING = PatternFill("solid", fgColor="FFF3CD")


def _local(value) -> str:
    return value.astimezone(clock.SHANGHAI).strftime("%Y-%m-%d %H:%M") if value else ""


def _hours(left) -> float:
    return round(left.total_seconds() / 3600, 2)


def _table(sheet, title: str, header: list[str], rows: list[list]) -> None:
    sheet.append([title])
    sheet.cell(row=sheet.max_row, column=1).font = HEADER
    sheet.append(header)
    for cell in sheet[sheet.max_row]:
        cell.font = HEADER
    for row in rows:
        sheet.append(row)
    sheet.append([])


def board_workbook(board, rows: list[dict]) -> bytes:
    """The board as .xlsx bytes: 汇总 (totals, units, departments, levels) and 明细 (``rows``)."""
    book = Workbook()
    summary = book.active
    summary.title = "汇总"
    summary.append(["督办看板", f"统计时间 {_local(board.now)}"])
    summary.cell(row=1, column=1).font = Font(bold=True, size=14)
    summary.append([])
    totals = board.totals
    _table(summary, "合计", ["已超时", "即将超时", "合计"], [[totals["overdue"], totals["warning"], totals["total"]]])
    _table(
        summary,
        "按单位",
        ["单位", "已超时", "即将超时", "合计"],
        [[r["name"], r["overdue"], r["warning"], r["total"]] for r in board.branches],
    )
    _table(
        summary,
        "按部门",
        ["单位", "部门", "已超时", "即将超时", "合计"],
        [[r["branch_name"], r["name"], r["overdue"], r["warning"], r["total"]] for r in board.departments],
    )
    _table(
        summary,
        "按督办级别",
        ["督办级别", "已超时", "即将超时", "合计"],
        [[r["level"], r["overdue"], r["warning"], r["total"]] for r in board.levels],
    )
    detail = book.create_sheet("明细")
    header = ["工单号", "状态", "等级", "分类", "处理部门", "处理人", "环节", "时限", "剩余（小时）", "时限状态"]
    detail.append([*header, "督办级别", "摘要"])
    for cell in detail[1]:
        cell.font = HEADER
    for row in rows:
        detail.append(
            [
                row["number"],
                row["status"],
                row["severity"],
                row["category"],
                row["department"],
                row["assignee"],
                row["stage"],
                _local(row["due_at"]),
                _hours(row["left"]),
                BOARD_STATE_LABELS[row["state"]],
                row["level"],
                row["summary"],
            ]
        )
        fill = OVERDUE if row["state"] == "overdue" else WARNING
        for cell in detail[detail.max_row]:
            cell.fill = fill
    for sheet, widths in ((summary, [24, 24, 12, 12, 12]), (detail, [18, 10, 8, 16, 18, 12, 10, 18, 12, 10, 10, 40])):
        for i, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = width
    detail.freeze_panes = "A2"
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()
