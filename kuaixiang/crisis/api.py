"""/api/v1 crisis endpoints: playbooks, incidents, actions, the special report. Thin: the same
services and selectors as the web views."""

from datetime import datetime
from typing import Any

from django.http import HttpResponse
from ninja import Query, Router, Schema
from ninja.responses import Status as Reply
from pydantic import ConfigDict, Field

from kuaixiang import clock
from kuaixiang.api.schemas import Error
from kuaixiang.crisis import reports, selectors, services
from kuaixiang.crisis.actions import ACTIONS, incident_action
from kuaixiang.crisis.criteria import SEVERITIES
from kuaixiang.crisis.models import Incident
from kuaixiang.errors import InvalidInput

router = Router(tags=["危机处置"])
ERRORS = {400: Error, 401: Error, 403: Error, 404: Error, 409: Error, 422: Error}
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


class RoleOut(Schema):
    key: str
    label: str
    staff_roles: list[str]
    functions: list[str]


class StepOut(Schema):
    key: str
    title: str
    kind: str
    anchor: str = Field(..., description="activation（启动后）或 close（结束后）")
    amount: float
    unit: str
    amount_by_severity: dict[str, float]
    owner_role: str
    checklist: list[str]
    notify_roles: list[str]
    scope: str


class PlaybookOut(Schema):
    code: str
    version: int
    name: str
    description: str
    source: str
    min_warning_level: int | None
    rule_codes: list[str]
    flags: list[str]
    default_severity: str
    roles: list[RoleOut]
    steps: list[StepOut]


class IncidentIn(Schema):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(..., min_length=1, max_length=200)
    playbook: str = Field(..., min_length=1, max_length=50, description="预案编码，如 telecom_crisis")
    severity: str | None = Field(None, description="blue / yellow / orange / red；缺省用预案的默认级别")
    description: str = Field("", max_length=20000)
    flags: list[str] = Field(default_factory=list, max_length=10, description="如 government（政府关注）")
    category_id: int | None = Field(None, ge=1, le=2**62, description="可选：新登记的该分类（含下级）投诉自动关联")


class IncidentCreated(Schema):
    id: int
    status: str


class IncidentOut(Schema):
    id: int
    title: str
    playbook: str
    playbook_version: int
    severity: str
    status: str
    source: str
    sandbox: bool
    unit: str
    parent_id: int | None
    activated_at: datetime
    closed_at: datetime | None
    linked_count: int


class TaskOut(Schema):
    id: int
    key: str
    title: str
    kind: str
    owner_role: str
    anchor: str
    state: str = Field(..., description="waiting（待起算）/ open / done")
    due_at: datetime | None
    done_at: datetime | None
    seconds_left: int | None
    verdict: str = Field(..., description="met / missed / pending / waiting")
    escalation_level: int
    checklist: list[dict[str, Any]]


class HourOut(Schema):
    hour: datetime
    count: int
    change: int
    percent: float | None


class ScriptOut(Schema):
    version: int
    status: str
    content: str
    drafted_at: datetime
    approved_at: datetime | None
    published_at: datetime | None
    replies: int


class BranchOut(Schema):
    id: int
    branch: str
    branch_id: int
    status: str
    tasks_total: int
    tasks_done: int
    tasks_late: int
    linked: int


class ParticipantOut(Schema):
    user: str
    role_key: str
    role_label: str


class IncidentDetail(IncidentOut):
    description: str
    scope_label: str
    stabilised_at: datetime | None
    cause: str
    measures: str
    responsibility: str
    tasks: list[TaskOut]
    hourly: list[HourOut]
    script: ScriptOut | None
    scripts: list[ScriptOut]
    branches: list[BranchOut]
    participants: list[ParticipantOut]
    result: dict[str, Any] = Field(default_factory=dict, description="操作的结果（如批量答复的逐件结果）")


class ActionIn(Schema):
    """Each action takes only its own fields (400 otherwise)."""

    model_config = ConfigDict(extra="forbid")

    complaint_id: int | None = Field(None, description="link、unlink 必填")
    content: str | None = Field(None, description="draft_script 必填；publish_script 给出时由领导直接发布新版本")
    version: int | None = Field(None, description="approve_script、publish_script 的口径版本（缺省为最新）")
    note: str | None = Field(None, description="stabilise、close、complete_task 的说明")
    task_id: int | None = Field(None, description="complete_task 必填")
    checklist: list[bool] | None = Field(None, description="complete_task：逐项勾选结果")
    branch_ids: list[int] | None = Field(None, description="push_branches：分公司部门 id（缺省为全部）")
    cause: str | None = Field(None, description="report：事件原因")
    measures: str | None = Field(None, description="report：整改措施")
    responsibility: str | None = Field(None, description="report：责任认定")


class ListQuery(Schema):
    status: str | None = Field(None, description="active / stabilising / closed / open（前两者）")
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=100000)


def _summary(incident: Incident) -> dict:
    return {
        "id": incident.pk,
        "title": incident.title,
        "playbook": incident.playbook.code,
        "playbook_version": incident.playbook.version,
        "severity": incident.severity,
        "status": incident.status,
        "source": incident.source,
        "sandbox": incident.sandbox,
        "unit": incident.unit.name,
        "parent_id": incident.parent_id,
        "activated_at": incident.activated_at,
        "closed_at": incident.closed_at,
        "linked_count": incident.linked_count,
    }


def _script(version) -> dict:
    return {
        "version": version.number,
        "status": version.status,
        "content": version.content,
        "drafted_at": version.drafted_at,
        "approved_at": version.approved_at,
        "published_at": version.published_at,
        "replies": getattr(version, "reply_count", 0),
    }


def incident_detail(user, incident_id: int, result: dict | None = None) -> dict:
    incident = selectors.incident_get(user, incident_id)
    now = clock.now()
    versions = selectors.scripts(incident)
    current = next((v for v in versions if v.status == "published"), None)
    return {
        **_summary(incident),
        "description": incident.description,
        "scope_label": incident.scope_label,
        "stabilised_at": incident.stabilised_at,
        "cause": incident.cause,
        "measures": incident.measures,
        "responsibility": incident.responsibility,
        "tasks": selectors.tasks_of(incident, now),
        "hourly": selectors.series_json(selectors.hourly_figures(incident, now=now)),
        "script": _script(current) if current else None,
        "scripts": [_script(v) for v in versions],
        "branches": selectors.branch_rollup(incident, now),
        "participants": [
            {"user": p.user.get_full_name() or p.user.username, "role_key": p.role_key, "role_label": p.role_label}
            for p in incident.participants.select_related("user")
        ],
        "result": result or {},
    }


@router.get("/playbooks", response={200: list[PlaybookOut], **ERRORS})
def list_playbooks(request):
    """已启用的应急预案（每个编码取最新版本），含启动条件、角色与步骤。"""
    return [
        {
            "code": p.code,
            "version": p.version,
            "name": p.name,
            "description": p.description,
            "source": p.source,
            "min_warning_level": p.min_warning_level,
            "rule_codes": p.rule_codes,
            "flags": p.flags,
            "default_severity": p.default_severity,
            "roles": list(p.roles.all()),
            "steps": [
                {**s.__dict__, "amount": float(s.amount), "amount_by_severity": s.amount_by_severity or {}}
                for s in p.steps.all()
            ],
        }
        for p in selectors.playbooks_current()
    ]


@router.post("/incidents", response={201: IncidentCreated, **ERRORS})
def declare_incident(request, body: IncidentIn):
    """人工宣布危机事件（投诉管理员、领导、系统管理员）。按预案生成任务并发出初报。"""
    if body.severity is not None and body.severity not in SEVERITIES:
        raise InvalidInput("invalid_severity", f"级别应为 {', '.join(SEVERITIES)}", {"field": "severity"})
    incident = services.incident_open(
        playbook=body.playbook,
        title=body.title,
        severity=body.severity,
        description=body.description,
        flags=body.flags,
        match_category=services.category_or_400(body.category_id),
        actor=request.auth,
    )
    return Reply(201, {"id": incident.pk, "status": incident.status})


@router.get("/incidents", response={200: list[IncidentOut], **ERRORS})
def list_incidents(request, query: ListQuery = Query(...)):  # noqa: B008
    """可见的危机事件，最新的在前。"""
    if query.status not in (None, "open", *Incident.Status.values):
        raise InvalidInput("invalid_status", "状态应为 active、stabilising、closed 或 open", {"field": "status"})
    rows = selectors.incident_list(request.auth, status=query.status, limit=query.limit, offset=query.offset)
    return [_summary(i) for i in rows]


@router.get("/incidents/{int:incident_id}", response={200: IncidentDetail, **ERRORS})
def get_incident(request, incident_id: int):
    """事件详情：任务（时限、状态）、关联投诉数、逐小时序列、口径版本、分公司汇总、参与人。"""
    return incident_detail(request.auth, incident_id)


@router.post(
    "/incidents/{int:incident_id}/actions/{action}",
    response={200: IncidentDetail, **ERRORS},
    description="事件操作：" + "、".join(f"{k}（{v[2]}）" for k, v in ACTIONS.items()) + "。被拒绝的操作不做任何修改。",
)
def perform_incident_action(request, incident_id: int, action: str, body: ActionIn | None = None):
    data = body.model_dump(exclude_none=True) if body else {}
    result = incident_action(incident_id=incident_id, action=action, actor=request.auth, data=data)
    return incident_detail(request.auth, incident_id, result)


@router.get("/incidents/{int:incident_id}/report.docx", response={200: None, **ERRORS})
def incident_report(request, incident_id: int):
    """专题报告（Word）：原因、范围、经过、处置、逐小时图表、整改措施、责任认定、各步骤时限执行情况。"""
    name, content = reports.special_report_docx(incident_id=incident_id, actor=request.auth)
    response = HttpResponse(content, content_type=DOCX)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
