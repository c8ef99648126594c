"""Load the ``sla:`` section of a YAML rule pack into policy versions, targets and ladders.

A policy is identified by ``code`` + ``version``. Loading is idempotent: an existing version
is brought in line with the pack (targets matched by stage and department function, ladder
steps by level, so running stages keep their target rows), a new version is created, and
policies the pack does not mention are left alone. To change a rule for new complaints
only, add a version with a later ``effective_from`` and give the old one an
``effective_to`` (docs/sla.md). The whole section is checked before anything is written.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from kuaixiang.complaints.models import Channel, Intent, Severity
from kuaixiang.org.models import Department
from kuaixiang.rulepacks import RulepackError, SectionResult, children_sync
from kuaixiang.sla.models import (
    Calendar,
    Difficulty,
    EscalationStep,
    EscalationTrigger,
    PauseReason,
    SlaPolicy,
    SlaTarget,
    Stage,
    TimeUnit,
    pause_rules_valid,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
POLICY_KEYS = frozenset(
    {
        "code",
        "version",
        "name",
        "extends",
        "effective_from",
        "effective_to",
        "priority",
        "channels",
        "severities",
        "category",
        "branch",
        "intents",
        "difficulties",
        "flags",
        "pause_on_suspend",
        "pause_reasons",
        "digest",
        "targets",
        "ladder",
        "active",
    }
)
TARGET_KEYS = frozenset({"amount", "unit", "function", "calendar", "warn_ratio", "holiday_roll"})
STEP_KEYS = frozenset({"level", "at", "after", "unit", "notify"})
ROLES = frozenset({"assignee", "handler", "head", "lead", "manager", "leader"})
FUNCTIONS = frozenset(Department.Function.values)


@dataclass
class PolicySpec:
    code: str
    version: int
    name: str
    where: str
    fields: dict[str, Any]
    category_code: str | None
    branch_code: str | None
    targets: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    ladder: dict[int, dict[str, Any]] = field(default_factory=dict)


def _instant(value: Any, source: str, where: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=SHANGHAI)
    raise RulepackError("日期格式应为 2025-01-01 或 2025-01-01T00:00:00+08:00", source=source, where=where)


def _amount(value: Any, unit: str, source: str, where: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise RulepackError("时限应为数字", source=source, where=where) from None
    if not amount.is_finite() or amount < 0 or amount > 100000:
        raise RulepackError("时限应为 0–100000 之间的数字", source=source, where=where)
    if unit in (TimeUnit.WORKING_DAYS, TimeUnit.NATURAL_DAYS) and amount != amount.to_integral_value():
        raise RulepackError("按天计算时时限须为整数", source=source, where=where)
    return amount


def _unit(value: Any, source: str, where: str) -> str:
    if value not in TimeUnit.values:
        raise RulepackError(f"单位无效：{value}；可选 {', '.join(TimeUnit.values)}", source=source, where=where)
    return value


def _target(raw: Any, stage: str, source: str, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict) or not set(raw) <= TARGET_KEYS or "amount" not in raw or "unit" not in raw:
        keys = ", ".join(sorted(TARGET_KEYS))
        raise RulepackError(f"时限应含 amount 与 unit，可选 {keys}", source=source, where=where)
    unit = _unit(raw["unit"], source, where)
    function = raw.get("function", "") or ""
    if function and function not in FUNCTIONS:
        raise RulepackError(f"部门职能无效：{function}", source=source, where=where)
    ratio = Decimal(str(raw.get("warn_ratio", "0.75")))
    if not 0 < ratio <= 1:
        raise RulepackError("warn_ratio 应在 0 到 1 之间", source=source, where=where)
    return {
        "stage": stage,
        "department_function": function,
        "amount": _amount(raw["amount"], unit, source, where),
        "unit": unit,
        "calendar": raw.get("calendar"),
        "warn_ratio": ratio,
        "holiday_roll": bool(raw.get("holiday_roll", False)),
    }


def _step(raw: Any, source: str, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict) or not set(raw) <= STEP_KEYS or not {"level", "at", "notify"} <= set(raw):
        raise RulepackError("督办级别应含 level、at（warn/breach）与 notify", source=source, where=where)
    if raw["at"] not in EscalationTrigger.values:
        raise RulepackError("at 应为 warn 或 breach", source=source, where=where)
    if not isinstance(raw["level"], int) or not 1 <= raw["level"] <= 20:
        raise RulepackError("level 应为 1–20 的整数", source=source, where=where)
    notify = raw["notify"]
    if not isinstance(notify, list) or not notify or not set(notify) <= ROLES:
        raise RulepackError(f"notify 应为角色列表：{', '.join(sorted(ROLES))}", source=source, where=where)
    unit = _unit(raw.get("unit", TimeUnit.WORKING_HOURS), source, where)
    return {
        "level": raw["level"],
        "trigger": raw["at"],
        "offset_amount": _amount(raw.get("after", 0), unit, source, where),
        "offset_unit": unit,
        "notify_roles": list(notify),
    }


def _choices(raw: Any, allowed: list[str], key: str, source: str, where: str) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not set(raw) <= set(allowed):
        raise RulepackError(f"{key} 应为列表，可选 {', '.join(allowed)}", source=source, where=where)
    return list(raw)


def _flags(raw: Any, source: str, where: str) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(v, str) and v.isidentifier() and len(v) <= 40 for v in raw):
        raise RulepackError("flags 应为标记名列表，例如 [upstream]", source=source, where=where)
    return list(raw)


def _pause_reasons(raw: Any, source: str, where: str) -> dict[str, list[str]]:
    if raw is None:
        return {}
    if not pause_rules_valid(raw):
        reasons = ", ".join(PauseReason.values)
        raise RulepackError(
            f"pause_reasons 应为 原因 → 环节列表 的映射；原因可选 {reasons}，环节可用 * 表示全部",
            source=source,
            where=where,
        )
    return {key: list(value) for key, value in raw.items()}


def sla_parse(document: dict, source: str) -> list[PolicySpec]:
    """Check the ``sla:`` section of a parsed pack; return its policies ([] when absent)."""
    section = document.get("sla")
    if section is None:
        return []
    if not isinstance(section, dict) or not isinstance(section.get("policies"), list):
        raise RulepackError("sla 段应含 policies 列表", source=source, where="sla")
    specs: list[PolicySpec] = []
    by_code: dict[str, PolicySpec] = {}
    for i, raw in enumerate(section["policies"]):
        where = f"sla.policies[{i}]"
        if not isinstance(raw, dict) or not set(raw) <= POLICY_KEYS:
            unknown = sorted(set(raw) - POLICY_KEYS) if isinstance(raw, dict) else []
            raise RulepackError(f"时限策略应为映射；未知字段 {unknown}", source=source, where=where)
        code = raw.get("code")
        if not isinstance(code, str) or not code or len(code) > 50:
            raise RulepackError("缺少 code", source=source, where=where)
        base = by_code.get(raw["extends"]) if "extends" in raw else None
        if "extends" in raw and base is None:
            raise RulepackError(f"extends 须指向前面定义的策略：{raw['extends']}", source=source, where=where)
        version = raw.get("version", 1)
        if not isinstance(version, int) or version < 1:
            raise RulepackError("version 应为正整数", source=source, where=where)
        start = _instant(raw.get("effective_from"), source, where) or (base and base.fields["effective_from"])
        if start is None:
            raise RulepackError("缺少 effective_from", source=source, where=where)
        spec = PolicySpec(
            code=code,
            version=version,
            name=str(raw.get("name") or code)[:100],
            where=where,
            fields={
                "effective_from": start,
                "effective_to": _instant(raw.get("effective_to"), source, where),
                "priority": int(raw.get("priority", 0)),
                "channels": _choices(raw.get("channels"), Channel.values, "channels", source, where),
                "severities": _choices(raw.get("severities"), Severity.values, "severities", source, where),
                "intents": _choices(raw.get("intents"), Intent.values, "intents", source, where),
                "difficulties": _choices(raw.get("difficulties"), Difficulty.values, "difficulties", source, where),
                "flags": _flags(raw.get("flags"), source, where),
                "pause_on_suspend": bool(raw.get("pause_on_suspend", True)),
                "pause_reasons": _pause_reasons(raw.get("pause_reasons"), source, where),
                "digest": bool(raw.get("digest", False)),
                "active": bool(raw.get("active", True)),
            },
            category_code=raw.get("category"),
            branch_code=raw.get("branch"),
            targets=dict(base.targets) if base else {},
            ladder=dict(base.ladder) if base else {},
        )
        for stage, value in (raw.get("targets") or {}).items():
            if stage not in Stage.values:
                raise RulepackError(f"环节无效：{stage}；可选 {', '.join(Stage.values)}", source=source, where=where)
            for j, item in enumerate(value if isinstance(value, list) else [value]):
                target = _target(item, stage, source, f"{where}.targets.{stage}[{j}]")
                spec.targets[(stage, target["department_function"])] = target
        if "ladder" in raw:
            if not isinstance(raw["ladder"], list):
                raise RulepackError("ladder 应为列表", source=source, where=where)
            spec.ladder = {}
            for j, item in enumerate(raw["ladder"]):
                step = _step(item, source, f"{where}.ladder[{j}]")
                spec.ladder[step["level"]] = step
        if any(s.code == code and s.version == version for s in specs):
            raise RulepackError(f"策略 {code} v{version} 重复", source=source, where=where)
        specs.append(spec)
        by_code[code] = spec
    return specs


def sla_load(specs: list[PolicySpec], source: str) -> SectionResult | None:
    """Write parsed policies (call inside the pack's transaction, after its categories)."""
    if not specs:
        return None
    from kuaixiang.triage.models import Category

    calendars = {c.code: c for c in Calendar.objects.all()}
    created = updated = unchanged = 0
    for spec in specs:
        values = dict(spec.fields, name=spec.name)
        values["category"] = values["branch"] = None
        if spec.category_code:
            values["category"] = Category.objects.filter(code=spec.category_code).first()
            if values["category"] is None:
                raise RulepackError(f"分类不存在：{spec.category_code}", source=source, where=spec.where)
        if spec.branch_code:
            values["branch"] = Department.objects.filter(code=spec.branch_code).first()
            if values["branch"] is None:
                raise RulepackError(f"单位不存在：{spec.branch_code}", source=source, where=spec.where)
        targets = {}
        for key, target in spec.targets.items():
            target = dict(target)
            code = target.pop("calendar")
            if code and code not in calendars:
                raise RulepackError(f"工作日历不存在：{code}", source=source, where=spec.where)
            target["calendar"] = calendars.get(code) if code else None
            targets[key] = target
        policy = SlaPolicy.objects.filter(code=spec.code, version=spec.version).first()
        if policy is None:
            policy = SlaPolicy.objects.create(code=spec.code, version=spec.version, **values)
            children_sync(SlaTarget, {}, targets, owner={"policy": policy})
            children_sync(EscalationStep, {}, spec.ladder, owner={"policy": policy})
            created += 1
            continue
        changed = any(getattr(policy, k) != v for k, v in values.items())
        if changed:
            for k, v in values.items():
                setattr(policy, k, v)
            policy.save()
        existing_targets = {(t.stage, t.department_function): t for t in policy.targets.all()}
        existing_steps = {s.level: s for s in policy.ladder.all()}
        changed = children_sync(SlaTarget, existing_targets, targets, owner={"policy": policy}) or changed
        changed = children_sync(EscalationStep, existing_steps, spec.ladder, owner={"policy": policy}) or changed
        if changed:
            updated += 1
        else:
            unchanged += 1
    return SectionResult(created, updated, unchanged)
