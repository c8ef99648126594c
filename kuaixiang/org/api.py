"""Duty roster API (值班表): who is on duty on a date, and right now for a role."""

from datetime import date, datetime, time

from ninja import Field, Router, Schema

from kuaixiang import clock
from kuaixiang.api.schemas import Error
from kuaixiang.errors import InvalidInput
from kuaixiang.org.duty import duty_resolve_with_source
from kuaixiang.org.roles import Role
from kuaixiang.org.selectors import department_visible, shifts_on_date

router = Router(tags=["值班表"])


class DutyUser(Schema):
    id: int
    username: str
    name: str


class ShiftOut(Schema):
    id: int
    date: date
    start: time = Field(description="本地（北京时间）开始时刻")
    end: time = Field(description="本地结束时刻；不晚于开始时刻表示跨午夜到次日")
    starts_at: datetime
    ends_at: datetime
    department: str = Field(description="部门编码")
    department_name: str
    role: str
    kind: str = Field(description="day / night / weekend / holiday")
    template: str | None = Field(description="班次模板名称")
    user: DutyUser
    note: str


class DutyNowOut(Schema):
    role: str
    department: str
    at: datetime
    source: str = Field(
        description="roster（本部门排班）/ unit_roster（上级单位排班）/ fallback（无排班时同角色在岗人员）"
    )
    users: list[DutyUser]


def _user(user) -> dict:
    return {"id": user.pk, "username": user.username, "name": user.get_full_name() or user.username}


def _shift(shift) -> dict:
    return {
        "id": shift.pk,
        "date": shift.date,
        "start": shift.start,
        "end": shift.end,
        "starts_at": shift.starts_at,
        "ends_at": shift.ends_at,
        "department": shift.department.code,
        "department_name": shift.department.name,
        "role": shift.role,
        "kind": shift.kind,
        "template": shift.template.name if shift.template_id else None,
        "user": _user(shift.user),
        "note": shift.note,
    }


@router.get("/duty", response={200: list[ShiftOut], 400: Error, 401: Error, 403: Error, 404: Error})
def duty_on_date(request, date: date | None = None, department: str | None = None):
    """某日（默认今天，北京时间）的值班安排；可按部门（编码或 id）筛选，只含权限范围内的部门。"""
    day = date or clock.local_now().date()
    dept = department_visible(request.user, department) if department else None
    return [_shift(s) for s in shifts_on_date(user=request.user, day=day, department=dept)]


@router.get("/duty/now", response={200: DutyNowOut, 400: Error, 401: Error, 403: Error, 404: Error})
def duty_now(request, role: str, department: str):
    """此刻某部门某角色的值班人：先查本部门排班，再查所属单位排班；都没有排班时返回该部门（或单位）同角色的在岗人员。"""
    if role not in Role.values:
        raise InvalidInput("role_unknown", f"未知角色：{role}", {"role": role})
    dept = department_visible(request.user, department)
    at = clock.now()
    users, source = duty_resolve_with_source(role=role, department=dept, at=at)
    return {"role": role, "department": dept.code, "at": at, "source": source, "users": [_user(u) for u in users]}
