from datetime import datetime
from decimal import Decimal
from typing import Any

from ninja import Schema
from pydantic import ConfigDict, Field, field_validator

from kuaixiang.validation import reject_nul


class Error(Schema):
    code: str = Field(..., description="机器可读的错误代码")
    message: str = Field(..., description="中文说明")
    details: dict[str, Any] = Field(default_factory=dict)


class TokenIn(Schema):
    username: str = Field(..., min_length=1, max_length=150)
    password: str = Field(..., min_length=1, max_length=200)

    @field_validator("username", "password")
    @classmethod
    def _no_nul(cls, value: str) -> str:
        return reject_nul(value)


class TokenOut(Schema):
    token: str


class Created(Schema):
    id: int
    number: str
    status: str


class BulkIn(Schema):
    items: list[dict[str, Any]] = Field(..., description="最多 1000 条，每条字段同「创建工单」")


class ActionIn(Schema):
    """The fields of every action; each action takes only its own and checks them (400 otherwise)."""

    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(
        None, description="原因：refuse、transfer、send_back、review_reject、reopen、reconsider、suspend 必填"
    )
    department_id: int | None = Field(None, description="目标部门：dispatch、transfer 必填")
    findings: str | None = Field(None, description="核实情况：return 必填")
    solution: str | None = Field(None, description="处理方案：return 必填")
    content: str | None = Field(None, description="答复内容：reply 必填")
    satisfaction: int | None = Field(None, description="满意度 1–5：revisit 必填")
    solved: bool | None = Field(None, description="问题是否解决：revisit 必填")
    comment: str | None = Field(None, description="回访备注：revisit 可选")
    into_id: int | None = Field(None, description="合并到的工单：merge 必填")
    pause_reason: str | None = Field(
        None, description="挂起原因类别 customer / test / appraisal / other（默认）：suspend 可选，决定暂停哪些时限"
    )


class BulkItemOut(Schema):
    index: int
    status: int = Field(..., description="201 新建，200 已存在（幂等），400 该条有误")
    id: int | None = None
    number: str | None = None
    error: Error | None = None


class BulkOut(Schema):
    created: int
    existing: int
    failed: int
    results: list[BulkItemOut]


class Ref(Schema):
    id: int
    name: str


class ComplaintListItem(Schema):
    id: int
    number: str
    status: str
    status_label: str
    channel: str
    severity: str
    intent: str = Field(..., description="意图：suggestion 建议型、grievance 问题型、malicious 恶意")
    request_type: str = Field(..., description="诉求类型：consultation、help、complaint、report、suggestion、criticism")
    validity: str = Field(..., description="valid 有效、invalid 无效")
    flags: list[str] = Field(..., description="关注标记：media、safety、legal、group、government")
    repeat_of_id: int | None = Field(None, description="重复投诉：同一投诉人前次同类工单")
    duplicate_of_id: int | None = Field(None, description="疑似重复：内容相近的未结工单")
    complainant_name: str
    complainant_phone: str
    subject: str
    summary: str
    received_at: datetime
    due_at: datetime | None
    category: Ref | None
    department: Ref | None
    assignee: Ref | None


class ComplaintPage(Schema):
    items: list[ComplaintListItem]
    next_cursor: str | None = Field(None, description="下一页游标；为空表示没有更多")


class EventOut(Schema):
    id: int
    at: datetime
    action: str
    action_label: str
    actor: Ref | None
    from_status: str
    to_status: str
    payload: dict[str, Any]


class AttachmentOut(Schema):
    id: int
    name: str
    size: int
    content_type: str
    uploaded_at: datetime


class StageOut(Schema):
    stage: str
    stage_label: str
    started_at: datetime
    due_at: datetime | None
    warn_at: datetime | None
    paused_seconds: int
    paused: bool
    completed_at: datetime | None
    breached: bool
    escalation_level: int
    calendar_error: str


class ComplaintDetail(Schema):
    id: int
    number: str
    status: str
    status_label: str
    channel: str
    external_id: str | None
    severity: str
    intent: str
    request_type: str
    validity: str
    validity_reason: str = Field(..., description="无效原因：anonymous、no_contact、too_vague、out_of_scope 或空")
    flags: list[str]
    repeat_of: Ref | None = Field(None, description="重复投诉的前次工单（name 为工单号）")
    duplicate_of: Ref | None = Field(None, description="疑似重复的相似工单（name 为工单号）")
    grading: dict[str, Any] = Field(
        ..., description="分级依据：rules（命中规则 code、name、version、why）、override（人工调整）等"
    )
    anonymous: bool
    complainant_name: str
    complainant_phone: str
    received_at: datetime
    place: str
    subject: str
    description: str
    appeal: str
    amount_claimed: Decimal | None
    extra: dict[str, Any]
    category: Ref | None
    intake_department: Ref
    department: Ref | None
    assignee: Ref | None
    merged_into: Ref | None
    refuse_reason: str
    findings: str
    solution: str
    reply_content: str
    satisfaction: int | None
    solved: bool | None
    reopen_count: int
    reconsider_count: int
    due_at: datetime | None
    created_at: datetime
    accepted_at: datetime | None
    dispatched_at: datetime | None
    replied_at: datetime | None
    closed_at: datetime | None
    allowed_actions: list[str]
    stages: list[StageOut]
    timeline: list[EventOut]
    attachments: list[AttachmentOut]


class RegradeIn(Schema):
    severity: str | None = Field(None, description="等级：general、important、major、urgent")
    intent: str | None = Field(None, description="意图：suggestion、grievance、malicious")
    request_type: str | None = Field(None, description="诉求类型")
    validity: str | None = Field(None, description="valid 或 invalid")
    validity_reason: str | None = Field(None, description="validity 为 invalid 时必填")
    flags: list[str] | None = Field(None, description="关注标记（整体替换）")
    reason: str = Field("", description="调整原因")


class SimilarOut(Schema):
    id: int
    number: str
    status: str
    received_at: datetime
    summary: str
    same_phone: bool = Field(..., description="与查询电话相同")
    distance: int | None = Field(None, description="文本指纹汉明距离（≤3 为疑似重复）；不相近为空")


class CategorySuggestionOut(Schema):
    category_id: int
    name: str = Field(..., description="分类完整路径")
    label: str = Field(..., description="模型中的标签")
    confidence: float


class DepartmentOut(Schema):
    id: int
    name: str
    code: str
    level: str
    function: str
    parent_id: int | None
    path: str


class CategoryOut(Schema):
    id: int
    name: str
    code: str
    level: int
    parent_id: int | None
    full_name: str


class MeOut(Schema):
    id: int
    username: str
    name: str
    role: str
    department: Ref


class NotificationOut(Schema):
    id: str
    subject: str
    body: str
    link: str
    created_at: datetime
    read: bool


class InboxOut(Schema):
    unread: int
    items: list[NotificationOut]


class MarkReadIn(Schema):
    ids: list[str] | None = Field(None, description="要标记为已读的消息；为空表示全部")
