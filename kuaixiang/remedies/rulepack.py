"""Load the ``authority:`` section of a rule pack: limits, chain templates, approval deadline, CAPA days.

```yaml
authority:
  approval: {amount: 1, unit: working_days, escalate_after: 4}
  capa: {temporary_days: 1, permanent_days: 7}
  limits:
    - {code: agent-compensation, role: agent, types: [refund, compensation], per_complaint: 100, per_month: 2000}
  chains:
    - {code: over-5000, name: 5000元以上会签, above: 5000, steps: [{role: manager, place: unit}, ...]}
```

A ``limits`` entry with several ``types`` makes one rule per type, coded ``<code>-<type>``.
Everything matches by code; loading is idempotent and every change goes to the change log
with the pack as its source. Rows the pack does not mention are left alone.
"""

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from kuaixiang.org.models import Department
from kuaixiang.org.roles import Role
from kuaixiang.remedies.matrix import matrix_row_delete, matrix_row_save, settings_get, snapshot
from kuaixiang.remedies.models import AuthorityRule, ChainPlace, ChainTemplate, ChainTemplateStep, RemedyType
from kuaixiang.rulepacks import RulepackError, SectionResult
from kuaixiang.sla.worktime import Unit

SECTION_KEYS = frozenset({"approval", "capa", "limits", "chains"})
LIMIT_KEYS = frozenset({"code", "role", "types", "department", "per_complaint", "per_month", "policy_exception"})
CHAIN_KEYS = frozenset({"code", "name", "above", "types", "steps"})
STEP_KEYS = frozenset({"role", "place"})
ROLES = frozenset(Role.values)
TYPES = frozenset(RemedyType.values)
PLACES = frozenset(ChainPlace.values)


@dataclass
class AuthoritySpec:
    settings: dict[str, Any] = field(default_factory=dict)
    rules: list[dict[str, Any]] = field(default_factory=list)
    chains: list[dict[str, Any]] = field(default_factory=list)


def _money(value: Any, source: str, where: str, *, optional: bool = True) -> Decimal | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise RulepackError("金额应为数字（不限额写 null）", source=source, where=where)
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise RulepackError(f"金额无效：{value}", source=source, where=where) from None
    if not amount.is_finite() or amount < 0 or amount > Decimal("9999999999"):
        raise RulepackError(f"金额超出范围：{value}", source=source, where=where)
    return amount.quantize(Decimal("0.01"))


def _keys(raw: Any, allowed: frozenset, source: str, where: str) -> dict:
    if not isinstance(raw, dict):
        raise RulepackError("应为映射", source=source, where=where)
    unknown = sorted(str(k) for k in set(raw) - allowed)
    if unknown:
        raise RulepackError(f"未知字段 {unknown}，可用：{sorted(allowed)}", source=source, where=where)
    return raw


def _code(raw: dict, source: str, where: str) -> str:
    code = raw.get("code")
    if not isinstance(code, str) or not code or len(code) > 60 or not code.replace("-", "").replace("_", "").isalnum():
        raise RulepackError("code 应为字母、数字、连字符组成的编码", source=source, where=where)
    return code


def _types(raw: Any, source: str, where: str, *, required: bool) -> list[str]:
    if raw is None and not required:
        return []
    values = [raw] if isinstance(raw, str) else raw
    if not isinstance(values, list) or not values or any(v not in TYPES for v in values):
        raise RulepackError(f"types 取值无效：{raw}（可选 {sorted(TYPES)}）", source=source, where=where)
    return list(dict.fromkeys(values))


def _settings(section: dict, source: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    approval = section.get("approval")
    if approval is not None:
        approval = _keys(approval, frozenset({"amount", "unit", "escalate_after"}), source, "authority.approval")
        if "amount" in approval:
            amount = _money(approval["amount"], source, "authority.approval.amount", optional=False)
            if not amount:
                raise RulepackError("审批时限须大于 0", source=source, where="authority.approval.amount")
            out["step_amount"] = amount
        if "unit" in approval:
            if approval["unit"] not in {u.value for u in Unit}:
                raise RulepackError(f"时间单位无效：{approval['unit']}", source=source, where="authority.approval.unit")
            out["step_unit"] = str(approval["unit"])
        if "escalate_after" in approval:
            out["escalate_after"] = _money(approval["escalate_after"], source, "authority.approval", optional=False)
    capa = section.get("capa")
    if capa is not None:
        capa = _keys(capa, frozenset({"temporary_days", "permanent_days"}), source, "authority.capa")
        for key, column in (("temporary_days", "capa_temporary_days"), ("permanent_days", "capa_permanent_days")):
            if key in capa:
                value = capa[key]
                if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 365:
                    raise RulepackError(f"{key} 应为 1–365 的整数", source=source, where=f"authority.capa.{key}")
                out[column] = value
    return out


def authority_parse(document: dict, source: str) -> AuthoritySpec | None:
    """Check the ``authority:`` section without writing; None when the pack has none."""
    section = document.get("authority")
    if section is None:
        return None
    section = _keys(section, SECTION_KEYS, source, "authority")
    spec = AuthoritySpec(settings=_settings(section, source))
    seen: set[str] = set()
    for i, raw in enumerate(section.get("limits") or []):
        where = f"authority.limits[{i}]"
        raw = _keys(raw, LIMIT_KEYS, source, where)
        code = _code(raw, source, where)
        if raw.get("role") not in ROLES:
            raise RulepackError(f"角色无效：{raw.get('role')}（可选 {sorted(ROLES)}）", source=source, where=where)
        department = raw.get("department")
        if department is not None and not isinstance(department, str):
            raise RulepackError("department 应为部门编码", source=source, where=where)
        if not isinstance(raw.get("policy_exception", False), bool):
            raise RulepackError("policy_exception 应为 true 或 false", source=source, where=where)
        per_complaint = _money(raw.get("per_complaint"), source, f"{where}.per_complaint")
        per_month = _money(raw.get("per_month"), source, f"{where}.per_month")
        for remedy_type in _types(raw.get("types"), source, where, required=True):
            full = f"{code}-{remedy_type}"
            if full in seen:
                raise RulepackError(f"编码重复：{full}", source=source, where=where)
            seen.add(full)
            spec.rules.append(
                {
                    "code": full,
                    "role": raw["role"],
                    "remedy_type": remedy_type,
                    "department": department,
                    "per_complaint": per_complaint,
                    "per_month": per_month,
                    "policy_exception": raw.get("policy_exception", False),
                    "where": where,
                }
            )
    chain_codes: set[str] = set()
    for i, raw in enumerate(section.get("chains") or []):
        where = f"authority.chains[{i}]"
        raw = _keys(raw, CHAIN_KEYS, source, where)
        code = _code(raw, source, where)
        if code in chain_codes:
            raise RulepackError(f"编码重复：{code}", source=source, where=where)
        chain_codes.add(code)
        name = raw.get("name")
        if not isinstance(name, str) or not name or len(name) > 100:
            raise RulepackError("缺少 name", source=source, where=where)
        steps = raw.get("steps")
        if not isinstance(steps, list) or not steps or len(steps) > 20:
            raise RulepackError("steps 应为 1–20 个步骤", source=source, where=where)
        parsed_steps = []
        for j, step in enumerate(steps):
            step = _keys(step, STEP_KEYS, source, f"{where}.steps[{j}]")
            if step.get("role") not in ROLES or step.get("place", "requester") not in PLACES:
                raise RulepackError(
                    f"role 或 place 无效（place 可选 {sorted(PLACES)}）", source=source, where=f"{where}.steps[{j}]"
                )
            parsed_steps.append({"role": step["role"], "place": step.get("place", "requester")})
        spec.chains.append(
            {
                "code": code,
                "name": name,
                "above": _money(raw.get("above"), source, f"{where}.above", optional=False),
                "remedy_types": _types(raw.get("types"), source, where, required=False),
                "steps": parsed_steps,
            }
        )
    return spec


def authority_load(spec: AuthoritySpec | None, source: str) -> SectionResult | None:
    """Write the parsed section (inside the pack's transaction); log each change with ``source``."""
    if spec is None:
        return None
    created = updated = unchanged = 0
    origin = f"rulepack:{source}"

    def put(instance, values: dict) -> None:
        nonlocal created, updated, unchanged
        is_new = instance.pk is None
        before = None if is_new else snapshot(instance)
        for key, value in values.items():
            setattr(instance, key, value)
        if not is_new and snapshot(instance) == before:
            unchanged += 1
            return
        matrix_row_save(actor=None, instance=instance, source=origin)
        if is_new:
            created += 1
        else:
            updated += 1

    if spec.settings:
        put(settings_get(), spec.settings)
    for rule in spec.rules:
        department = None
        if rule["department"]:
            department = Department.objects.filter(code=rule["department"]).first()
            if department is None:
                raise RulepackError(f"部门不存在：{rule['department']}", source=source, where=rule["where"])
        values = {k: v for k, v in rule.items() if k not in ("code", "where", "department")}
        values["department"] = department
        values["active"] = True
        instance = AuthorityRule.objects.filter(code=rule["code"]).first() or AuthorityRule(code=rule["code"])
        put(instance, values)
    for chain in spec.chains:
        instance = ChainTemplate.objects.filter(code=chain["code"]).first() or ChainTemplate(code=chain["code"])
        put(instance, {"name": chain["name"], "above": chain["above"], "remedy_types": chain["remedy_types"]})
        existing = {s.order: s for s in instance.steps.all()}
        for order, step in enumerate(chain["steps"], start=1):
            row = existing.pop(order, None) or ChainTemplateStep(template=instance, order=order)
            put(row, step)
        for row in existing.values():
            matrix_row_delete(actor=None, instance=row, source=origin)
            updated += 1
    return SectionResult(created, updated, unchanged)
