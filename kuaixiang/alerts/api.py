"""Warnings API (mounted at /api/v1): list, detail and lifecycle actions. Thin: services decide."""

from datetime import datetime
from typing import Annotated, Literal

from ninja import Query, Router, Schema
from pydantic import Field

from kuaixiang.alerts import selectors, services
from kuaixiang.api.schemas import Error
from kuaixiang.errors import InvalidInput, NotFound

router = Router(tags=["监控预警"])
ERRORS = {400: Error, 401: Error, 403: Error, 404: Error, 409: Error, 422: Error}
MAX_LIMIT = 200


class WarningOut(Schema):
    id: int
    rule: str = Field(..., description="规则编码")
    rule_name: str
    scope: str = Field(..., description="范围（文字）：分类路径如 手机/信号、渠道，或 cluster: 关键词")
    scope_key: str
    level: int = Field(..., description="级别 1–3（黄/橙/红）")
    count: int = Field(..., description="窗口内件数（基线规则为最近 60 分钟件数）")
    figure: float = Field(..., description="判定指标：阈值规则为件数，基线规则为倍数")
    expected: float | None = Field(None, description="基线规则的同期期望件数/小时")
    status: str = Field(..., description="open 待确认 / acknowledged 已确认 / assigned 已指派 / resolved 已解除")
    window_start: datetime
    window_end: datetime
    raised_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    department_id: int | None = Field(None, description="责任部门")
    cause: str
    silenced: bool
    crisis: bool = Field(..., description="已达危机级（危机级规则的最高级别）")
    top_terms: list[str] = Field(default_factory=list, description="相似簇关键词")


class EventOut(Schema):
    at: datetime
    kind: str = Field(
        ..., description="raised / rose / notified / inhibited / silenced / acknowledged / assigned / linked / resolved"
    )
    level: int
    actor: str | None
    payload: dict


class ComplaintRef(Schema):
    id: int
    number: str
    received_at: datetime
    category: str | None
    description: str


class WarningDetail(WarningOut):
    events: list[EventOut]
    complaints: list[ComplaintRef] = Field(..., description="关联工单（最多 20 条，按数据权限）")


class WarningPage(Schema):
    items: list[WarningOut]
    count: int


class ListQuery(Schema):
    status: Literal["open", "acknowledged", "assigned", "resolved"] | None = None
    level: int | None = Field(None, ge=1, le=3)
    open: bool = Field(False, description="只看未解除的")
    sandbox: bool = Field(False, description="演练沙箱的预警")
    limit: int = Field(50, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0, le=1_000_000)


class ActionIn(Schema):
    note: str = Field("", max_length=2000, description="acknowledge/assign：备注")
    department_id: int | None = Field(None, ge=1, le=2**62, description="assign：责任部门")
    complaint_ids: list[Annotated[int, Field(ge=1, le=2**62)]] = Field(
        default_factory=list, max_length=500, description="link：工单 id 列表"
    )
    cause: str = Field("", max_length=5000, description="resolve：原因分析（必填）")


def _out(w) -> dict:
    return {
        "id": w.pk,
        "rule": w.rule.code,
        "rule_name": w.rule.name,
        "scope": w.scope_label,
        "scope_key": w.scope_key,
        "level": w.level,
        "count": w.count,
        "figure": w.figure,
        "expected": w.expected,
        "status": w.status,
        "window_start": w.window_start,
        "window_end": w.window_end,
        "raised_at": w.raised_at,
        "updated_at": w.updated_at,
        "resolved_at": w.resolved_at,
        "department_id": w.department_id,
        "cause": w.cause,
        "silenced": w.silenced,
        "crisis": w.is_crisis,
        "top_terms": list(w.cluster.top_terms) if w.cluster_id and w.cluster else [],
    }


def _detail(request, w) -> dict:
    data = _out(w)
    data["events"] = [
        {
            "at": e.at,
            "kind": e.kind,
            "level": e.level,
            "actor": e.actor.username if e.actor else None,
            "payload": e.payload,
        }
        for e in selectors.warning_timeline(w)
    ]
    data["complaints"] = [
        {
            "id": c.pk,
            "number": c.number,
            "received_at": c.received_at,
            "category": str(c.category) if c.category else None,
            "description": c.description[:200],
        }
        for c in selectors.warning_complaints(w, user=request.auth)
    ]
    return data


@router.get("/warnings", response={200: WarningPage, **ERRORS})
def warnings(request, query: ListQuery = Query(...)):  # noqa: B008
    """预警列表（按发出时间倒序），按数据权限过滤。"""
    qs = selectors.warnings_list(
        user=request.auth, status=query.status, level=query.level, sandbox=query.sandbox, open_only=query.open
    )
    items = list(qs[query.offset : query.offset + query.limit])
    return {"items": [_out(w) for w in items], "count": qs.count()}


@router.get("/warnings/{warning_id}", response={200: WarningDetail, **ERRORS})
def warning(request, warning_id: int):
    """预警详情：时间线与关联工单。"""
    if not 1 <= warning_id <= 2**62:
        raise NotFound("warning_not_found", "预警不存在")
    w = selectors.warning_get(user=request.auth, warning_id=warning_id)
    if w is None:
        raise NotFound("warning_not_found", "预警不存在")
    return _detail(request, w)


@router.post("/warnings/{warning_id}/actions/{action}", response={200: WarningDetail, **ERRORS})
def warning_action(
    request, warning_id: int, action: Literal["acknowledge", "assign", "link", "resolve"], body: ActionIn
):
    """预警处置：acknowledge 确认、assign 指派责任部门、link 关联工单、resolve 解除（须填原因）。"""
    if not 1 <= warning_id <= 2**62:
        raise NotFound("warning_not_found", "预警不存在")
    user = request.auth
    if action == "acknowledge":
        w = services.warning_acknowledge(warning_id=warning_id, actor=user, note=body.note)
    elif action == "assign":
        if body.department_id is None:
            raise InvalidInput("department_required", "请指定责任部门")
        w = services.warning_assign(warning_id=warning_id, actor=user, department_id=body.department_id, note=body.note)
    elif action == "link":
        w = services.warning_link(warning_id=warning_id, actor=user, complaint_ids=body.complaint_ids)
    else:
        w = services.warning_resolve(warning_id=warning_id, actor=user, cause=body.cause)
    return _detail(request, selectors.warning_get(user=user, warning_id=w.pk) or w)
