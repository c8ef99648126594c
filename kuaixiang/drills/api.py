"""Drill API (演练): start a drill, list drills, one drill with its scored steps."""

from datetime import datetime
from typing import Any

from ninja import Field, Router, Schema
from ninja.responses import Status as Reply

from kuaixiang.api.schemas import Error
from kuaixiang.drills import selectors, services

router = Router(tags=["应急演练"])


class DrillIn(Schema):
    playbook: str = Field(description="预案编码，如 telecom_crisis")
    scenario: dict[str, Any] = Field(
        default_factory=lambda: {"kind": "synthetic"},
        description="场景：{kind: synthetic, category, burst, burst_minutes, background_per_hour, hours, seed} "
        "或 {kind: recorded, csv}（CSV 表头 received_at,channel,category,text[,phone]）",
    )
    speed: float = Field(60.0, description="演练时钟倍速（1–3600），60 表示现实 1 分钟 = 演练 1 小时")
    title: str = Field("", description="标题；为空时用“<预案名称>演练”")


class DrillStepOut(Schema):
    order: int
    key: str
    title: str
    owner_role: str
    started_at: datetime | None
    due_at: datetime | None
    done_at: datetime | None
    done_by: str | None
    outcome: str = Field(description="met / late / missed / open / unscored")
    late_seconds: float | None
    points: float | None


class DrillOut(Schema):
    id: int
    title: str
    playbook: str
    playbook_version: int
    status: str = Field(description="running / finished")
    scenario_kind: str
    scenario: dict[str, Any]
    activation: str = Field(description="warning（预警自动启动）/ manual（演练人工启动）")
    incident_id: int | None
    speed: float
    origin: datetime = Field(description="演练时钟起点（事件启动时刻）")
    started_at: datetime
    finished_at: datetime | None
    drill_now: datetime = Field(description="当前演练时钟；结束后为结束时的演练时钟")
    registered: int
    skipped_rows: int
    warnings: list[dict[str, Any]]
    score: float | None


class DrillDetailOut(DrillOut):
    steps: list[DrillStepOut]
    notes: str


def _out(drill) -> dict:
    return {
        "id": drill.pk,
        "title": drill.title,
        "playbook": drill.playbook.code,
        "playbook_version": drill.playbook.version,
        "status": drill.status,
        "scenario_kind": drill.scenario_kind,
        "scenario": drill.scenario,
        "activation": drill.activation,
        "incident_id": drill.incident_id,
        "speed": drill.speed,
        "origin": drill.origin,
        "started_at": drill.started_at,
        "finished_at": drill.finished_at,
        "drill_now": services.drill_now(drill),
        "registered": drill.registered,
        "skipped_rows": drill.skipped_rows,
        "warnings": drill.warnings,
        "score": drill.score,
    }


def _detail(drill) -> dict:
    return {**_out(drill), "steps": selectors.drill_steps(drill), "notes": drill.notes}


@router.post("/drills", response={201: DrillDetailOut, 400: Error, 401: Error, 403: Error, 409: Error})
def start_drill(request, payload: DrillIn):
    """以预案和场景发起演练：清空沙箱、回放突增、启动沙箱危机事件（通知只进沙箱人员站内信）。投诉管理员、领导、系统管理员可用。"""
    drill = services.drill_start(
        playbook=payload.playbook,
        scenario=payload.scenario,
        speed=payload.speed,
        title=payload.title,
        actor=request.user,
    )
    return Reply(201, _detail(selectors.drill_get(drill.pk)))


@router.get("/drills", response={200: list[DrillOut], 401: Error})
def list_drills(request):
    """最近 200 次演练，新的在前。"""
    return [_out(d) for d in selectors.drills_list()]


@router.get("/drills/{drill_id}", response={200: DrillDetailOut, 401: Error, 404: Error})
def get_drill(request, drill_id: int):
    """一次演练及其各步骤的时限、完成时间与评分（进行中时按当前演练时钟计算）。"""
    return _detail(selectors.drill_get(drill_id))
