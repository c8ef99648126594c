"""Build SLA policies for tests: one call per policy version, targets and ladder as data."""

from datetime import datetime

from kuaixiang.sla.models import EscalationStep, SlaPolicy, SlaTarget
from tests.sla.conftest import sh

# The default policy of the tests: stage -> (amount, unit[, department_function]).
TARGETS = {
    "acceptance": (1, "working_days"),
    "department_return": (4, "working_hours"),
    "reply": (5, "working_days"),
    "closure": (15, "natural_days"),
}
LADDER = [
    (1, "warn", 0, "working_hours", ["assignee", "handler"]),
    (2, "breach", 0, "working_hours", ["assignee", "handler", "lead"]),
    (3, "breach", 4, "working_hours", ["head"]),
    (4, "breach", 1, "working_days", ["leader"]),
]


def make_policy(
    code: str = "default",
    version: int = 1,
    *,
    effective_from: datetime | None = None,
    effective_to: datetime | None = None,
    targets: dict | None = None,
    ladder: list | None = None,
    **fields,
) -> SlaPolicy:
    policy = SlaPolicy.objects.create(
        code=code,
        version=version,
        name=f"{code} v{version}",
        effective_from=effective_from or sh(2020, 1, 1),
        effective_to=effective_to,
        **fields,
    )
    # A key may carry trailing spaces to give one stage several targets (one per department function).
    for stage, spec in (TARGETS if targets is None else targets).items():
        amount, unit, *function = spec
        SlaTarget.objects.create(
            policy=policy,
            stage=stage.strip(),
            amount=amount,
            unit=unit,
            department_function=function[0] if function else "",
        )
    for level, trigger, offset, unit, roles in LADDER if ladder is None else ladder:
        EscalationStep.objects.create(
            policy=policy, level=level, trigger=trigger, offset_amount=offset, offset_unit=unit, notify_roles=roles
        )
    return policy
