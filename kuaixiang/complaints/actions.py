"""Payloads of lifecycle actions, validated the same way for web and API."""

from typing import Any, Literal

from django.utils.translation import gettext_lazy as _
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


class SuspendIn(ReasonIn):
    pause_reason: Literal["customer", "test", "appraisal", "other"] = Field(
        "other", description="挂起原因类别：customer 等待客户 / test 等待检测 / appraisal 等待鉴定 / other 其他"
    )


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
    "suspend": SuspendIn,
    "resume": NoPayload,
    "merge": MergeIn,
    "archive": NoPayload,
}

# Translatable (English msgids, Chinese in locale/zh_Hans): one source for buttons, timeline and messages.
LABELS = {
    "register": _("Register"),
    "attach": _("Add attachment"),
    "escalate": _("Escalate"),
    "accept": _("Accept"),
    "refuse": _("Refuse"),
    "dispatch": _("Dispatch"),
    "transfer": _("Transfer"),
    "send_back": _("Send back"),
    "take": _("Take"),
    "return": _("Return"),
    "review_pass": _("Pass review"),
    "review_reject": _("Reject review"),
    "reply": _("Reply"),
    "revisit": _("Revisit"),
    "reopen": _("Reopen"),
    "reconsider": _("Reconsider"),
    "suspend": _("Suspend"),
    "resume": _("Resume"),
    "merge": _("Merge"),
    "archive": _("Archive"),
    "regrade": _("调整分级"),
}


def parse_payload(action: str, data: Any) -> _Payload:
    try:
        return PAYLOADS[action].model_validate(data if data is not None else {})
    except ValidationError as exc:
        raise invalid_input(exc.errors()) from None
