"""Remedies, approvals, delegation, 8D and accountability under /api/v1 (thin: calls the services)."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from ninja import Router, Schema
from ninja.responses import Status as Reply
from pydantic import ConfigDict, Field

from kuaixiang.api.schemas import Error
from kuaixiang.complaints.selectors import complaint_detail
from kuaixiang.remedies import accountability, capa, present, selectors, services
from kuaixiang.remedies.inputs import MAX_AMOUNT, DecisionInput, RemedyInput

router = Router(tags=["授权与补偿"])
Id = Annotated[int, Field(ge=1, le=2**62)]
ERRORS = {400: Error, 401: Error, 403: Error, 404: Error, 409: Error}


class Person(Schema):
    id: int
    name: str


class Named(Schema):
    id: int
    name: str


class ComplaintRef(Schema):
    id: int
    number: str


class StepOut(Schema):
    round: int
    order: int
    role: str
    role_label: str
    place: Named
    state: str = Field(..., description="waiting 待前序、active 待审批、approved、rejected、returned、cancelled")
    state_label: str
    approvers: list[Person]
    started_at: datetime | None
    due_at: datetime | None = Field(None, description="本步审批时限（工作时间计算）")
    escalation_level: int
    decided_by: Person | None
    on_behalf_of: Person | None = Field(None, description="代理审批时：被代理的审批人")
    decided_at: datetime | None
    comment: str


class EventOut(Schema):
    at: datetime
    action: str
    actor: Person | None
    from_state: str
    to_state: str
    comment: str
    payload: dict[str, Any]


class RemedyOut(Schema):
    id: int
    complaint: ComplaintRef
    type: str
    type_label: str
    amount: Decimal
    responsibility: str
    responsibility_label: str
    justification: str
    policy_exception: bool
    state: str = Field(..., description="pending 审批中、approved、rejected、returned、executed、cancelled")
    state_label: str
    self_approved: bool = Field(..., description="在申请人权限内直接批准")
    round: int
    chain_name: str
    requested_by: Person
    created_at: datetime
    decided_at: datetime | None
    executed_at: datetime | None
    chain: list[StepOut]
    timeline: list[EventOut]


def _out(request, remedy_id: int) -> dict:
    return present.remedy_item(selectors.remedy_detail(request.auth, remedy_id))


@router.post("/complaints/{int:complaint_id}/remedies", response={201: RemedyOut, **ERRORS})
def create_remedy(request, complaint_id: int, body: RemedyInput):
    """申请退费、补偿等。权限内直接批准（state=approved）；超出权限时按授权矩阵和组织架构生成审批链
    （state=pending，`chain` 为各级审批人与时限）。同一工单的退费、补偿各只能有一笔有效申请（409）。"""
    remedy = services.remedy_request(complaint_id=complaint_id, actor=request.auth, data=body)
    return Reply(201, _out(request, remedy.pk))


@router.get("/complaints/{int:complaint_id}/remedies", response={200: list[RemedyOut], **ERRORS})
def list_complaint_remedies(request, complaint_id: int):
    """工单的全部补偿申请（需可查看该工单）。"""
    complaint = complaint_detail(request.auth, complaint_id)
    ids = [r.pk for r in selectors.remedies_for_complaint(complaint.pk)]
    return [present.remedy_item(r) for r in selectors.remedies_with_chains(ids)]


@router.get("/remedies/approvals", response={200: list[RemedyOut], **ERRORS})
def my_approvals(request):
    """待我审批：当前用户（或其今日代理的审批人）为当前审批人的申请。"""
    ids = [step.remedy_id for step in selectors.approvals_waiting(request.auth)]
    return [present.remedy_item(r) for r in selectors.remedies_with_chains(ids)]


@router.get("/remedies/{int:remedy_id}", response={200: RemedyOut, **ERRORS})
def get_remedy(request, remedy_id: int):
    """补偿申请详情：审批链（每轮、每级）与时间线。"""
    return _out(request, remedy_id)


@router.post("/remedies/{int:remedy_id}/actions/{action}", response={200: RemedyOut, **ERRORS})
def decide_remedy(
    request, remedy_id: int, action: Literal["approve", "reject", "return"], body: DecisionInput | None = None
):
    """当前步骤审批：approve 同意、reject 驳回（终止审批链）、return 退回申请人；驳回和退回须填 `comment`。
    403 非当前审批人或其代理人；409 申请不在审批中，或该步骤已被他人处理。"""
    services.remedy_decide(remedy_id=remedy_id, actor=request.auth, action=action, comment=body.comment if body else "")
    return _out(request, remedy_id)


class ExecuteIn(Schema):
    model_config = ConfigDict(extra="forbid")
    note: str = Field("", max_length=300, description="执行说明，如退款流水号")


@router.post("/remedies/{int:remedy_id}/execute", response={200: RemedyOut, **ERRORS})
def execute_remedy(request, remedy_id: int, body: ExecuteIn | None = None):
    """登记已批准的申请已执行（已支付/已办理）；只能执行一次（再次执行 409 `already_executed`）。"""
    services.remedy_execute(remedy_id=remedy_id, actor=request.auth, note=body.note if body else "")
    return _out(request, remedy_id)


class ResubmitIn(Schema):
    model_config = ConfigDict(extra="forbid")
    amount: Decimal | None = Field(None, ge=0, le=MAX_AMOUNT, max_digits=12, decimal_places=2)
    justification: str | None = Field(None, min_length=1, max_length=2000)


@router.post("/remedies/{int:remedy_id}/resubmit", response={200: RemedyOut, **ERRORS})
def resubmit_remedy(request, remedy_id: int, body: ResubmitIn | None = None):
    """申请人修改后重新提交被退回的申请（新一轮审批）。"""
    services.remedy_resubmit(
        remedy_id=remedy_id,
        actor=request.auth,
        amount=body.amount if body else None,
        justification=body.justification if body else None,
    )
    return _out(request, remedy_id)


@router.post("/remedies/{int:remedy_id}/cancel", response={200: RemedyOut, **ERRORS})
def cancel_remedy(request, remedy_id: int, body: DecisionInput | None = None):
    """撤销审批中或被退回的申请（申请人或投诉管理员）。"""
    services.remedy_cancel(remedy_id=remedy_id, actor=request.auth, comment=body.comment if body else "")
    return _out(request, remedy_id)


class DelegationIn(Schema):
    model_config = ConfigDict(extra="forbid")
    delegate_id: int = Field(..., ge=1, le=2**62)
    starts_on: date
    ends_on: date
    note: str = Field("", max_length=200)


class DelegationOut(Schema):
    id: int
    principal: Person
    delegate: Person
    starts_on: date
    ends_on: date
    note: str


def _delegation(row) -> dict:
    return {
        "id": row.pk,
        "principal": present.person(row.principal),
        "delegate": present.person(row.delegate),
        "starts_on": row.starts_on,
        "ends_on": row.ends_on,
        "note": row.note,
    }


@router.post("/delegations", response={201: DelegationOut, **ERRORS})
def create_delegation(request, body: DelegationIn):
    """外出期间委托他人代为审批（起止日期含当天，按北京时间）。"""
    row = services.delegation_create(
        actor=request.auth, delegate_id=body.delegate_id, starts_on=body.starts_on, ends_on=body.ends_on, note=body.note
    )
    return Reply(201, _delegation(row))


@router.get("/delegations", response={200: list[DelegationOut], **ERRORS})
def list_delegations(request):
    """我设置的与委托给我的审批委托。"""
    return [_delegation(row) for row in selectors.delegations_of(request.auth)]


class LimitOut(Schema):
    code: str
    role: str
    remedy_type: str
    department: str | None
    per_complaint: Decimal | None
    per_month: Decimal | None
    policy_exception: bool


@router.get("/authority/matrix", response={200: list[LimitOut], **ERRORS})
def authority_matrix(request):
    """授权矩阵：各角色单独可决定的单笔与每月额度（null 为不限）。"""
    data = selectors.matrix()
    return [
        {
            "code": r.code,
            "role": r.role,
            "remedy_type": r.remedy_type,
            "department": r.department.code if r.department_id else None,
            "per_complaint": r.per_complaint,
            "per_month": r.per_month,
            "policy_exception": r.policy_exception,
        }
        for rules in data["rules"].values()
        for r in rules
    ]


# ---------------------------------------------------------------- 8D


class EightDIn(Schema):
    model_config = ConfigDict(extra="forbid")
    complaint_ids: list[Id] = Field(..., min_length=1, max_length=100)
    title: str = Field(..., min_length=1, max_length=200)
    product: str = Field("", max_length=200)


class EightDUpdate(Schema):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(None, min_length=1, max_length=200)
    product: str | None = Field(None, max_length=200)
    d2_problem: str | None = Field(None, max_length=10_000)
    d3_containment: str | None = Field(None, max_length=10_000)
    stock_checked: int | None = Field(None, ge=0, le=10**9)
    stock_isolated: int | None = Field(None, ge=0, le=10**9)
    d4_root_cause: str | None = Field(None, max_length=10_000)
    d5_corrective: str | None = Field(None, max_length=10_000)
    d6_verification: str | None = Field(None, max_length=10_000)
    d7_prevention: str | None = Field(None, max_length=10_000)
    d8_closure: str | None = Field(None, max_length=10_000)
    team_ids: list[Id] | None = Field(None, max_length=100)
    complaint_ids: list[Id] | None = Field(None, min_length=1, max_length=100)


class CapaOut(Schema):
    id: int
    kind: str
    kind_label: str
    description: str
    owner: Person
    due_at: datetime | None
    done_at: datetime | None
    verified: bool
    verification: str


class EightDOut(Schema):
    id: int
    number: str
    title: str
    product: str
    state: str
    champion: Person
    department: Named
    team: list[Person]
    complaints: list[ComplaintRef]
    d2_problem: str
    d3_containment: str
    stock_checked: int
    stock_isolated: int
    d4_root_cause: str
    d5_corrective: str
    d6_verification: str
    d7_prevention: str
    d8_closure: str
    actions: list[CapaOut]
    created_at: datetime
    closed_at: datetime | None


class CapaIn(Schema):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["temporary", "corrective", "preventive"]
    description: str = Field(..., min_length=1, max_length=10_000)
    owner_id: int = Field(..., ge=1, le=2**62)
    due_at: datetime | None = Field(None, description="缺省：临时措施 1 个工作日、纠正/预防措施 7 个工作日")


@router.post("/eightds", response={201: EightDOut, **ERRORS})
def create_eightd(request, body: EightDIn):
    """为一张或多张质量投诉开立 8D 报告（D1 组长为当前用户）。"""
    row = capa.eightd_open(actor=request.auth, complaint_ids=body.complaint_ids, title=body.title, product=body.product)
    return Reply(201, present.eightd_item(capa.eightd_get(request.auth, row.pk)))


@router.get("/eightds/{int:eightd_id}", response={200: EightDOut, **ERRORS})
def get_eightd(request, eightd_id: int):
    return present.eightd_item(capa.eightd_get(request.auth, eightd_id))


@router.post("/eightds/{int:eightd_id}", response={200: EightDOut, **ERRORS})
def update_eightd(request, eightd_id: int, body: EightDUpdate):
    """修改 D2–D8、库存围堵数量、小组成员与关联工单（只传要改的字段）。"""
    capa.eightd_update(actor=request.auth, eightd_id=eightd_id, data=body.model_dump(exclude_unset=True))
    return present.eightd_item(capa.eightd_get(request.auth, eightd_id))


@router.post("/eightds/{int:eightd_id}/actions", response={201: CapaOut, **ERRORS})
def add_capa_action(request, eightd_id: int, body: CapaIn):
    """新增临时/纠正/预防措施，负责人与完成时限（缺省按工作日计算）。"""
    action = capa.capa_action_add(
        actor=request.auth,
        eightd_id=eightd_id,
        kind=body.kind,
        description=body.description,
        owner_id=body.owner_id,
        due_at=body.due_at,
    )
    row = present.eightd_item(capa.eightd_get(request.auth, eightd_id))
    return Reply(201, next(a for a in row["actions"] if a["id"] == action.pk))


# ---------------------------------------------------------------- accountability


class AccountabilityIn(Schema):
    model_config = ConfigDict(extra="forbid")
    person_id: int = Field(..., ge=1, le=2**62)
    finding: str = Field(..., min_length=1, max_length=5000)
    fine: Decimal = Field(Decimal(0), ge=0, le=100000, max_digits=8, decimal_places=2)
    zero_performance: bool = False
    complaint_id: int | None = Field(None, ge=1, le=2**62)


class AccountabilityOut(Schema):
    id: int
    person: Person
    department: Named
    manager: Person | None
    finding: str
    fine: Decimal
    zero_performance: bool
    month: date
    state: str
    approved_by: Person | None
    complaint_id: int | None


def _accountability(row) -> dict:
    return {
        "id": row.pk,
        "person": present.person(row.person),
        "department": {"id": row.department_id, "name": row.department.name},
        "manager": present.person(row.manager),
        "finding": row.finding,
        "fine": row.fine,
        "zero_performance": row.zero_performance,
        "month": row.month,
        "state": row.state,
        "approved_by": present.person(row.approved_by),
        "complaint_id": row.complaint_id,
    }


@router.post("/accountability", response={201: AccountabilityOut, **ERRORS})
def record_accountability(request, body: AccountabilityIn):
    """登记责任追究（投诉管理员、领导、系统管理员）。"""
    row = accountability.accountability_record(actor=request.auth, **body.model_dump())
    return Reply(201, _accountability(row))


@router.post("/accountability/{int:accountability_id}/approve", response={200: AccountabilityOut, **ERRORS})
def approve_accountability(request, accountability_id: int):
    """领导或系统管理员批准（登记人本人不能批准）。"""
    row = accountability.accountability_approve(actor=request.auth, accountability_id=accountability_id)
    return _accountability(row)
