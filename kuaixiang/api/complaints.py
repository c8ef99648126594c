from datetime import datetime

from ninja import File, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status as Reply
from pydantic import Field

from kuaixiang.api.schemas import (
    ActionIn,
    AttachmentOut,
    BulkIn,
    BulkOut,
    CategorySuggestionOut,
    ComplaintDetail,
    ComplaintPage,
    Created,
    Error,
    RegradeIn,
    SimilarOut,
)
from kuaixiang.complaints import present, selectors, services
from kuaixiang.complaints.intake import ComplaintInput, parse_complaint_input
from kuaixiang.complaints.lifecycle import ACTIONS
from kuaixiang.complaints.models import Channel, Severity, Status
from kuaixiang.errors import InvalidInput
from kuaixiang.sla.selectors import stages_for_complaint
from kuaixiang.triage import selectors as triage_selectors

router = Router(tags=["投诉工单"])
BULK_LIMIT = 1000
ERRORS = {400: Error, 401: Error, 403: Error, 404: Error, 409: Error}


@router.post("", response={200: Created, 201: Created, **ERRORS})
def create_complaint(request, body: ComplaintInput):
    """登记一条投诉。以 (channel, external_id) 或请求头 `Idempotency-Key` 幂等：重复提交返回 200 与同一工单。"""
    key = request.headers.get("Idempotency-Key")
    registered = services.complaint_register(actor=request.auth, data=body, idempotency_key=key)
    c = registered.complaint
    return Reply(201 if registered.created else 200, {"id": c.pk, "number": c.number, "status": c.status})


@router.post("/bulk", response={200: BulkOut, **ERRORS})
def create_complaints_bulk(request, body: BulkIn):
    """批量登记（最多 1000 条），逐条返回结果；有误的条目不写入，不影响其他条目。"""
    if not body.items:
        raise InvalidInput("bulk_empty", "批量数据为空")
    if len(body.items) > BULK_LIMIT:
        raise InvalidInput(
            "bulk_too_large", f"单批最多 {BULK_LIMIT} 条，本批 {len(body.items)} 条", {"limit": BULK_LIMIT}
        )
    parsed: list[ComplaintInput | InvalidInput] = []
    for item in body.items:
        try:
            parsed.append(parse_complaint_input(item))
        except InvalidInput as exc:
            parsed.append(exc)
    results = services.complaint_register_bulk(actor=request.auth, items=parsed)
    out = [
        {
            "index": r.index,
            "status": r.status,
            "id": r.complaint.pk if r.complaint else None,
            "number": r.complaint.number if r.complaint else None,
            "error": r.error,
        }
        for r in results
    ]
    return {
        "created": sum(r.status == 201 for r in results),
        "existing": sum(r.status == 200 for r in results),
        "failed": sum(r.status == 400 for r in results),
        "results": out,
    }


class ListQuery(Schema):
    status: list[Status] = Field(default_factory=list, description="状态，可多选")
    category_id: int | None = Field(None, ge=1, le=2**62, description="分类（含下级）")
    department_id: int | None = Field(None, ge=1, le=2**62)
    channel: Channel | None = None
    severity: Severity | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None
    q: str | None = Field(None, max_length=200, description="工单号、电话或内容关键词")
    overdue: bool | None = None
    assignee_id: int | None = Field(None, ge=1, le=2**62)
    cursor: str | None = Field(None, max_length=200)
    limit: int = Field(50, ge=1, le=200)


@router.get("", response={200: ComplaintPage, **ERRORS})
def list_complaints(request, query: ListQuery = Query(...)):  # noqa: B008
    """按数据范围列出工单，最新接收在前；游标分页（`next_cursor`）。"""
    filters = selectors.ComplaintFilters(
        status=[s.value if hasattr(s, "value") else s for s in query.status],
        category_id=query.category_id,
        department_id=query.department_id,
        channel=query.channel,
        severity=query.severity,
        received_from=query.received_from,
        received_to=query.received_to,
        q=query.q,
        overdue=query.overdue,
        assignee_id=query.assignee_id,
    )
    page = selectors.complaints_page(request.auth, filters, cursor=query.cursor, limit=query.limit)
    role = services.role_of(request.auth)
    return {"items": [present.list_item(row, role) for row in page.items], "next_cursor": page.next_cursor}


def _detail(request, complaint_id: int, *, after_action: bool = False) -> dict:
    complaint = selectors.complaint_detail(request.auth, complaint_id, after_action=after_action)
    still_visible = not after_action or selectors.complaints_visible(request.auth).filter(pk=complaint_id).exists()
    return present.detail(
        complaint,
        role=services.role_of(request.auth),
        allowed=services.allowed_actions(complaint, request.auth) if still_visible else [],
        timeline=selectors.complaint_timeline(complaint),
        attachments=list(complaint.attachments.order_by("id")),
        stages=stages_for_complaint(complaint.pk),
    )


@router.get("/{int:complaint_id}", response={200: ComplaintDetail, **ERRORS})
def get_complaint(request, complaint_id: int):
    """工单详情，含时间线与当前用户可执行的操作 `allowed_actions`。"""
    return _detail(request, complaint_id)


@router.post(
    "/{int:complaint_id}/actions/{action}",
    response={200: ComplaintDetail, **ERRORS},
    description="执行流转操作，操作名："
    + "、".join(ACTIONS)
    + "。403 角色或部门无权，409 状态不允许，400 参数有误；被拒绝的操作不做任何修改。",
)
def perform_action(request, complaint_id: int, action: str, body: ActionIn | None = None):
    data = body.model_dump(exclude_unset=True) if body else {}
    services.complaint_transition(complaint_id=complaint_id, action=action, actor=request.auth, data=data)
    return _detail(request, complaint_id, after_action=True)


class SimilarQuery(Schema):
    text: str = Field("", max_length=10_000, description="投诉内容（按文本指纹查近似重复）")
    phone: str = Field("", max_length=40, description="联系电话（查同一投诉人的未结工单）")
    limit: int = Field(10, ge=1, le=50)


@router.get("/similar", response={200: list[SimilarOut], **ERRORS})
def similar_complaints(request, query: SimilarQuery = Query(...)):  # noqa: B008
    """登记前查相似的未结工单：同一电话，或内容近似（SimHash 汉明距离 ≤ 3），按相似度排序。"""
    rows = triage_selectors.similar_open(request.auth, text=query.text, phone=query.phone, limit=query.limit)
    return [row.__dict__ for row in rows]


class SuggestQuery(Schema):
    text: str = Field(..., max_length=10_000, description="投诉内容")
    k: int = Field(3, ge=1, le=10)


@router.get("/category-suggestions", response={200: list[CategorySuggestionOut], **ERRORS})
def category_suggestions(request, query: SuggestQuery = Query(...)):  # noqa: B008
    """分类建议：按 KX_CLASSIFIER_MODEL 模型给出最可能的分类及置信度；未配置模型时返回空列表。"""
    return [s.__dict__ for s in triage_selectors.category_suggestions(query.text, k=query.k)]


@router.post("/{int:complaint_id}/grading", response={200: ComplaintDetail, **ERRORS})
def regrade_complaint(request, complaint_id: int, body: RegradeIn):
    """人工调整分级（等级、意图、诉求类型、有效性、关注标记）；只改给出的字段，时间线记一条 regrade 事件。"""
    services.complaint_regrade(complaint_id=complaint_id, actor=request.auth, data=body.model_dump(exclude_unset=True))
    return _detail(request, complaint_id)


@router.post("/{int:complaint_id}/attachments", response={201: AttachmentOut, **ERRORS, 413: Error})
def upload_attachment(request, complaint_id: int, file: UploadedFile = File(...)):  # noqa: B008
    """上传证据附件（照片、录音、票据等），单个文件最大见 KX_ATTACHMENT_MAX_BYTES。"""
    attachment = services.attachment_add(complaint_id=complaint_id, actor=request.auth, upload=file)
    return Reply(201, attachment)
