"""Validated inputs of remedy requests and decisions, shared by the web forms and the API."""

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kuaixiang.errors import InvalidInput
from kuaixiang.remedies.models import PAYOUT_TYPES, RemedyType, Responsibility
from kuaixiang.validation import invalid_input, reject_nul

MAX_TEXT = 2000
MAX_AMOUNT = Decimal("9999999999.99")

TypeCode = Annotated[RemedyType, Field(description="类型：" + "、".join(f"{t.value}（{t.label}）" for t in RemedyType))]
ResponsibilityCode = Annotated[
    Responsibility, Field(description="责任认定：" + "、".join(f"{r.value}（{r.label}）" for r in Responsibility))
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, use_enum_values=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        return reject_nul(data)


class RemedyInput(_Strict):
    """A remedy request (退费补偿申请)."""

    type: TypeCode
    amount: Decimal = Field(..., ge=0, le=MAX_AMOUNT, max_digits=12, decimal_places=2, description="金额（元）")
    responsibility: ResponsibilityCode
    justification: str = Field(..., min_length=1, max_length=MAX_TEXT, description="理由，必填")
    policy_exception: bool = Field(False, description="是否属于政策例外（需有例外审批权的人批准）")

    @field_validator("amount")
    @classmethod
    def _finite(cls, value: Decimal) -> Decimal:
        if not value.is_finite():
            raise InvalidInput("invalid_amount", "金额应为有限数字")
        return value

    @model_validator(mode="after")
    def _payout_needs_money(self) -> "RemedyInput":
        if self.type in PAYOUT_TYPES and self.amount <= 0:
            raise InvalidInput("amount_required", "退费或补偿金额必须大于 0")
        return self


class DecisionInput(_Strict):
    comment: str = Field("", max_length=MAX_TEXT, description="审批意见；驳回与退回必填")


def parse_remedy_input(data: Any) -> RemedyInput:
    """Validate raw data; raise ``InvalidInput`` (400 ``validation_error``) with per-field Chinese messages."""
    try:
        return RemedyInput.model_validate(data)
    except ValidationError as exc:
        raise invalid_input(exc.errors()) from None
