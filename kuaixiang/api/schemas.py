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
