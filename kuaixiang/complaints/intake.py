"""The registration input, validated once for the web form, the API and bulk intake."""

import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kuaixiang import clock
from kuaixiang.complaints.models import Channel, Flag, Intent, RequestType, Severity, Validity, ValidityReason
from kuaixiang.complaints.phone import normalise_phone
from kuaixiang.errors import InvalidInput
from kuaixiang.validation import invalid_input, reject_nul

MAX_TEXT = 10_000
MAX_EXTRA_JSON = 10_000
FUTURE_TOLERANCE = timedelta(minutes=10)

ChannelCode = Annotated[
    Channel, Field(description="渠道代码：" + "、".join(f"{c.value}（{c.label}）" for c in Channel))
]


class ComplaintInput(BaseModel):
    """Fields of a complaint at registration (RULES.md §2)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, use_enum_values=True)

    channel: ChannelCode
    external_id: str | None = Field(None, max_length=100, description="来源系统中的编号；同一渠道内唯一，用于幂等")
    anonymous: bool = Field(False, description="匿名投诉：可不填联系电话")
    complainant_name: str = Field("", max_length=100)
    complainant_phone: str | None = Field(None, max_length=40, description="大陆手机号或带区号的固定电话")
    received_at: datetime | None = Field(None, description="接收时间（ISO 8601）；缺省为当前时间")
    place: str = Field("", max_length=200)
    subject: str = Field("", max_length=200, description="被投诉的人员、部门或产品")
    description: str = Field(..., min_length=1, max_length=MAX_TEXT)
    appeal: str = Field("", max_length=MAX_TEXT, description="诉求")
    amount_claimed: Decimal | None = Field(None, ge=0, max_digits=14, decimal_places=2)
    category_id: int | None = Field(None, ge=1, le=2**62)
    severity: Severity = Severity.GENERAL
    extra: dict[str, Any] = Field(default_factory=dict, description="扩展字段，如产品、批次号、发货日期")

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        return reject_nul(data)

    @field_validator("complainant_phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        return normalise_phone(value)

    @field_validator("received_at")
    @classmethod
    def _received(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=clock.SHANGHAI)
        if value > clock.now() + FUTURE_TOLERANCE:
            raise InvalidInput("received_in_future", "接收时间不能晚于当前时间")
        if value.year < 2000:
            raise InvalidInput("received_too_old", "接收时间不能早于 2000 年")
        return value

    @field_validator("extra")
    @classmethod
    def _extra(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            size = len(json.dumps(value, ensure_ascii=False, allow_nan=False))
        except (ValueError, RecursionError):
            # NaN/Infinity parse from a lenient JSON body but no database accepts them in JSON.
            raise InvalidInput(
                "extra_not_json", "扩展字段只能包含标准 JSON 值（不支持 NaN、Infinity 或过深的嵌套）"
            ) from None
        if size > MAX_EXTRA_JSON:
            raise InvalidInput("extra_too_large", f"扩展字段过大，最多 {MAX_EXTRA_JSON} 个字符")
        return value

    @field_validator("external_id")
    @classmethod
    def _external_id(cls, value: str | None) -> str | None:
        return value or None

    @model_validator(mode="after")
    def _contact(self) -> "ComplaintInput":
        if not self.anonymous and not self.complainant_phone:
            raise InvalidInput("phone_required", "非匿名投诉必须填写联系电话")
        if not self.description.strip():
            raise InvalidInput("description_required", "投诉内容不能为空")
        return self


def parse_complaint_input(data: Any) -> ComplaintInput:
    """Validate raw data; raise ``InvalidInput`` with per-field Chinese messages."""
    try:
        return ComplaintInput.model_validate(data)
    except ValidationError as exc:
        raise invalid_input(exc.errors()) from None


class RegradeInput(BaseModel):
    """An agent's override of the grading (每项可选；未给出的保持不变)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, use_enum_values=True)

    severity: Severity | None = None
    intent: Intent | None = None
    request_type: RequestType | None = None
    validity: Validity | None = None
    validity_reason: ValidityReason | None = Field(None, description="无效原因；validity 为 invalid 时必填")
    flags: list[Flag] | None = Field(None, max_length=len(Flag), description="关注标记（整体替换）")
    reason: str = Field("", max_length=500, description="调整原因")

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        return reject_nul(data)


def parse_regrade_input(data: Any) -> RegradeInput:
    try:
        return RegradeInput.model_validate(data)
    except ValidationError as exc:
        raise invalid_input(exc.errors()) from None
