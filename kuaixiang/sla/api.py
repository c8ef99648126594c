"""SLA API: ``router`` (mounted at /api/v1/calendar: deadlines and working days on a business
calendar) and ``supervision_router`` (mounted at /api/v1: the supervision board's counts)."""

from datetime import date, datetime
from typing import Literal

from ninja import Query, Router, Schema
from pydantic import Field

from kuaixiang import clock
from kuaixiang.api.schemas import Error
from kuaixiang.errors import InvalidInput
from kuaixiang.sla import selectors
from kuaixiang.sla.calendars import DEFAULT_CALENDAR, calendar_days, day_reason, deadline_compute
from kuaixiang.sla.worktime import Unit, format_week_hours

router = Router(tags=["工作日历"])
supervision_router = Router(tags=["督办看板"])
ERRORS = {400: Error, 401: Error, 404: Error, 422: Error}
MAX_AMOUNT = 100_000
MAX_DAYS = 366
WEEKDAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


class DeadlineOut(Schema):
    due: datetime = Field(..., description="到期时刻，ISO 8601，+08:00", examples=["2025-10-09T23:59:59+08:00"])


class DayOut(Schema):
    date: date
    weekday: str = Field(..., description="周一…周日")
    working: bool
    kind: str = Field(
        ..., description="workday 工作日 / weekend 周末 / holiday 节假日 / makeup 调休上班 / closure 停业"
    )
    reason: str = Field(..., description="中文说明：工作日、周末、节日名称、调休上班（节日）、停业原因")
    hours: list[list[str]] = Field(..., description='营业时段，例如 [["09:00", "12:00"], ["13:30", "18:00"]]')


class DaysOut(Schema):
    calendar: str
    days: list[DayOut]


class DeadlineQuery(Schema):
    start: datetime = Field(..., description="开始时刻，ISO 8601 带时区偏移，例如 2025-09-30T17:00:00+08:00")
    amount: float = Field(..., ge=0, le=MAX_AMOUNT, allow_inf_nan=False, description="数量（按天计算时须为整数）")
    unit: Unit = Field(..., description="时间单位")
    calendar: str = Field(DEFAULT_CALENDAR, max_length=32, description="工作日历编码")
    holiday_roll: bool = Field(False, description="自然日到期日落在法定节假日时顺延至其后第一个工作日")


class DaysQuery(Schema):
    first: date = Field(..., alias="from", description="起始日期（含），例如 2025-09-27")
    last: date = Field(..., alias="to", description=f"结束日期（含），最多 {MAX_DAYS} 天")
    calendar: str = Field(DEFAULT_CALENDAR, max_length=32, description="工作日历编码")


@router.get("/deadline", response={200: DeadlineOut, **ERRORS})
def deadline(request, query: DeadlineQuery = Query(...)):  # noqa: B008
    """计算时限到期时刻：起算日不计入；N 个工作日到第 N 个工作日 23:59:59；自然日到起算日 + N 的 23:59:59。"""
    due = deadline_compute(
        start=query.start,
        amount=query.amount,
        unit=query.unit,
        calendar=query.calendar,
        holiday_roll=query.holiday_roll,
    )
    return {"due": due}


@router.get("/days", response={200: DaysOut, **ERRORS})
def days(request, query: DaysQuery = Query(...)):  # noqa: B008
    """列出区间内每一天是否工作日及原因（周末、节日名称、调休上班、停业）。"""
    first, last = query.first, query.last
    if last < first:
        raise InvalidInput("invalid_range", "结束日期不能早于起始日期", {"from": str(first), "to": str(last)})
    span = (last - first).days + 1
    if span > MAX_DAYS:
        raise InvalidInput(
            "range_too_large", f"一次最多查询 {MAX_DAYS} 天，本次 {span} 天", {"limit": MAX_DAYS, "days": span}
        )
    infos = calendar_days(first=first, last=last, calendar=query.calendar)
    return {
        "calendar": query.calendar,
        "days": [
            {
                "date": info.day,
                "weekday": WEEKDAYS_ZH[info.day.weekday()],
                "working": info.working,
                "kind": info.kind.value,
                "reason": day_reason(info),
                "hours": format_week_hours({"d": info.hours})["d"],
            }
            for info in infos
        ],
    }


class BoardQuery(Schema):
    state: Literal["overdue", "warning"] | None = Field(None, description="overdue 已超时 / warning 即将超时")
    branch: int | None = Field(None, ge=1, le=2**62, description="单位（分公司或总部）id")
    department: int | None = Field(None, ge=1, le=2**62, description="部门 id（处理部门，未派单时为受理部门）")
    level: int | None = Field(None, ge=0, le=100, description="督办级别（0 为尚未督办）")


class CountsOut(Schema):
    overdue: int = Field(..., description="已超时工单数")
    warning: int = Field(..., description="已过预警点、未超时的工单数")
    total: int


class UnitCountsOut(CountsOut):
    id: int
    name: str


class DepartmentCountsOut(UnitCountsOut):
    branch_id: int
    branch_name: str


class LevelCountsOut(CountsOut):
    level: int = Field(..., description="已触发的最高督办级别，0 为尚未督办")


class BoardOut(Schema):
    now: datetime = Field(..., description="统计时刻")
    totals: CountsOut
    selected: int = Field(..., description="符合 state/branch/department/level 筛选的工单数")
    complaint_ids: list[int] = Field(..., description="筛选结果的工单 id，最早到期在前，最多 200 个")
    branches: list[UnitCountsOut]
    departments: list[DepartmentCountsOut]
    levels: list[LevelCountsOut]


@supervision_router.get("/supervision", response={200: BoardOut, **ERRORS})
def supervision(request, query: BoardQuery = Query(...)):  # noqa: B008
    """督办看板：数据范围内已超时与即将超时（已过预警点）的工单数，按单位、部门与督办级别汇总。"""
    filters = selectors.BoardFilters(
        state=query.state or "", branch=query.branch, department=query.department, level=query.level
    )
    board = selectors.supervision_board(request.auth, now=clock.now(), filters=filters)
    selected = board.selected()
    return {
        "now": board.now,
        "totals": board.totals,
        "selected": len(selected),
        "complaint_ids": [x.complaint_id for x in selected[: selectors.BOARD_ROWS]],
        "branches": board.branches,
        "departments": board.departments,
        "levels": board.levels,
    }
