"""Authority arithmetic (pure, no Django): may a person decide a remedy alone, and who is next.

A *limit* says what one role may decide alone for one remedy type: ``per_complaint`` (the
total granted on one complaint, this request included) and ``per_month`` (what the person
granted alone this month, this request included); ``None`` means no ceiling. A role with no
limit for the type may decide nothing alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Limit:
    role: str
    per_complaint: Decimal | None
    per_month: Decimal | None = None
    policy_exception: bool = False

    def covers_amount(self, amount: Decimal) -> bool:
        return self.per_complaint is None or amount <= self.per_complaint


@dataclass(frozen=True)
class Verdict:
    """``alone``: the requester may decide it; otherwise ``reason`` says which ceiling it crosses."""

    alone: bool
    reason: str = ""


def verdict(
    limit: Limit | None,
    *,
    amount: Decimal,
    complaint_total: Decimal = Decimal(0),
    month_used: Decimal = Decimal(0),
    policy_exception: bool = False,
) -> Verdict:
    """Whether the holder of ``limit`` may grant ``amount`` alone.

    ``complaint_total`` is what the complaint was already granted of this type and
    ``month_used`` what the person already granted alone this month. Limits are inclusive:
    an agent with 100 may grant exactly 100.
    """
    if amount < 0:
        raise ValueError("amount must not be negative")
    if limit is None:
        return Verdict(False, "no_authority")
    if policy_exception and not limit.policy_exception:
        return Verdict(False, "policy_exception")
    if not limit.covers_amount(complaint_total + amount):
        return Verdict(False, "per_complaint")
    if limit.per_month is not None and month_used + amount > limit.per_month:
        return Verdict(False, "per_month")
    return Verdict(True)


def _ceiling(limit: Limit) -> Decimal | None:
    return limit.per_complaint


def ladder(
    limits: Iterable[Limit], *, requester: Limit | None, amount: Decimal, policy_exception: bool = False
) -> list[str]:
    """Roles to ask, level by level, for ``amount`` beyond the requester's authority.

    The roles whose ceiling is above the requester's, in ascending order of ceiling, up to and
    including the first that covers ``amount`` (and may grant a policy exception when asked).
    Return ``[]`` when no role covers it.
    """
    own = Decimal(-1) if requester is None or requester.per_complaint is None else requester.per_complaint
    if requester is not None and requester.per_complaint is None:
        own = Decimal("Infinity")
    above = [
        limit
        for limit in limits
        if (limit.per_complaint is None or limit.per_complaint > own)
        and (requester is None or limit.role != requester.role)
    ]
    above.sort(key=lambda limit: (limit.per_complaint is None, limit.per_complaint or Decimal(0), limit.role))
    chain: list[str] = []
    for limit in above:
        if limit.role in chain:
            continue
        chain.append(limit.role)
        if limit.covers_amount(amount) and (limit.policy_exception or not policy_exception):
            return chain
    return []
