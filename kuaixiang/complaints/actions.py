"""Payloads of lifecycle actions, validated the same way for web and API."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from kuaixiang.validation import invalid_input, reject_nul

MAX_TEXT = 10_000
Text = Field(..., min_length=1, max_length=MAX_TEXT)


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        return reject_nul(data)


class NoPayload(_Payload):
    pass


class ReasonIn(_Payload):
    reason: str = Text


class DepartmentIn(_Payload):
    department_id: int = Field(..., ge=1, le=2**62)


class TransferIn(DepartmentIn):
    reason: str = Text


class ReturnIn(_Payload):
    findings: str = Text
    solution: str = Text


class ReplyIn(_Payload):
    content: str = Text


class RevisitIn(_Payload):
    satisfaction: int = Field(..., ge=1, le=5, description="满意度 1–5")
    solved: bool = Field(..., description="问题是否解决（与满意度分开记录）")
    comment: str = Field("", max_length=MAX_TEXT)


class MergeIn(_Payload):
    into_id: int = Field(..., ge=1, le=2**62)


PAYLOADS: dict[str, type[_Payload]] = {
    "accept": NoPayload,
    "refuse": ReasonIn,
    "dispatch": DepartmentIn,
    "transfer": TransferIn,
    "send_back": ReasonIn,
    "take": NoPayload,
    "return": ReturnIn,
    "review_pass": NoPayload,
    "review_reject": ReasonIn,
    "reply": ReplyIn,
    "revisit": RevisitIn,
    "reopen": ReasonIn,
    "reconsider": ReasonIn,
    "suspend": ReasonIn,
    "resume": NoPayload,
    "merge": MergeIn,
    "archive": NoPayload,
}

LABELS = {
    "register": "登记",
    "attach": "上传附件",
    "accept": "受理",
    "refuse": "不予受理",
    "dispatch": "派单",
    "transfer": "转派",
    "send_back": "退单",
    "take": "接单",
    "return": "回单",
    "review_pass": "审核通过",
    "review_reject": "审核驳回",
    "reply": "答复",
    "revisit": "回访",
    "reopen": "重启",
    "reconsider": "复议",
    "suspend": "挂起",
    "resume": "恢复",
    "merge": "合并",
    "archive": "归档",
}


def parse_payload(action: str, data: Any) -> _Payload:
    try:
        return PAYLOADS[action].model_validate(data if data is not None else {})
    except ValidationError as exc:
        raise invalid_input(exc.errors()) from None
