"""Playbook rules as plain values (no Django): activation criteria, per-level amounts, deadline verdicts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

SEVERITIES = ("blue", "yellow", "orange", "red")
# A warning's level (1–3) gives the incident's level when a playbook opens one from it.
SEVERITY_OF_WARNING_LEVEL = {1: "yellow", 2: "orange", 3: "red"}


@dataclass(frozen=True)
class Criteria:
    """Any one suffices: warning level ≥ ``min_level``, warning rule in ``rule_codes``, a flag shared."""

    min_level: int | None = None
    rule_codes: frozenset[str] = frozenset()
    flags: frozenset[str] = frozenset()


def criteria_met(criteria: Criteria, *, level: int | None, rule_code: str | None, flags: Iterable[str] = ()) -> bool:
    """Whether a warning (``level``, ``rule_code``) or a declaration (``flags``) activates the plan."""
    if criteria.min_level is not None and level is not None and level >= criteria.min_level:
        return True
    if rule_code and rule_code in criteria.rule_codes:
        return True
    return bool(criteria.flags & set(flags))


def step_amount(amount: Decimal, by_severity: Mapping[str, object], severity: str) -> Decimal:
    """The step's amount for an incident of ``severity``: the per-level override, else ``amount``."""
    override = by_severity.get(severity)
    return Decimal(str(override)) if override is not None else amount


def deadline_verdict(due_at: datetime | None, done_at: datetime | None, now: datetime) -> str:
    """``met`` (done by the deadline), ``missed`` (done late or overdue now), ``pending`` (still in time)
    or ``waiting`` (no deadline yet: anchored on an event that has not happened)."""
    if due_at is None:
        return "waiting"
    if done_at is not None:
        return "met" if done_at <= due_at else "missed"
    return "missed" if now > due_at else "pending"
