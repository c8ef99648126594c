"""The ``alerts:`` section of a rule pack: warning rules, matched by ``code``.

```yaml
alerts:
  rules:
    - code: cat5-day-100
      name: 单一五级分类单日投诉量
      group_by: category        # all | category | channel | cluster
      category_level: 5         # count on the level-5 node of each complaint's category
      window: calendar_day      # rolling_minutes | rolling_hours | rolling_days | calendar_day | calendar_month
      size: 1
      measure: new              # new | escalated | repeat | flagged
      condition: threshold      # threshold | same_hour_ratio | hour_change | poisson
      levels:
        - {level: 3, at: 100, duty: true, notify: [{role: leader}, {role: head, department: responsible}]}
```

``notify`` targets: ``role`` (required) with ``function`` (departments of that function) or
``department`` (a department code, or ``responsible`` for the warning's responsible department).
Parsing checks everything without writing; loading is idempotent by code.
"""

from dataclasses import dataclass
from typing import Any

from kuaixiang.alerts.models import Condition, GroupBy, Measure, WarningRule, WindowKind
from kuaixiang.complaints.models import Channel
from kuaixiang.org.models import Department
from kuaixiang.org.roles import Role
from kuaixiang.rulepacks import RulepackError, SectionResult

RULE_KEYS = frozenset(
    {
        "code",
        "name",
        "description",
        "version",
        "active",
        "category",
        "channel",
        "branch",
        "flag",
        "group_by",
        "category_level",
        "window",
        "size",
        "measure",
        "condition",
        "params",
        "min_count",
        "levels",
        "crisis",
    }
)
LEVEL_KEYS = frozenset({"level", "at", "notify", "duty"})
TARGET_KEYS = frozenset({"role", "function", "department"})
PARAM_KEYS = frozenset({"ratio", "arl_days", "weeks", "prior", "min_expected", "cluster_distance"})


@dataclass
class RuleSpec:
    code: str
    where: str
    fields: dict[str, Any]
    category_code: str | None
    branch_code: str | None


def _fail(message: str, source: str, where: str):
    raise RulepackError(message, source=source, where=where)


def _choice(value: Any, allowed: list[str], key: str, source: str, where: str) -> str:
    if value not in allowed:
        _fail(f"{key} 无效：{value}；可选 {', '.join(allowed)}", source, where)
    return value


def _target(raw: Any, source: str, where: str) -> dict:
    if not isinstance(raw, dict) or not set(raw) <= TARGET_KEYS or "role" not in raw:
        _fail("通知对象应为 {role, function?, department?}", source, where)
    target = {"role": _choice(raw["role"], Role.values, "role", source, where)}
    if "function" in raw:
        target["function"] = _choice(raw["function"], Department.Function.values, "function", source, where)
    if "department" in raw:
        if not isinstance(raw["department"], str) or not raw["department"]:
            _fail("department 应为部门编码或 responsible", source, where)
        target["department"] = raw["department"]
    return target


def _levels(raw: Any, source: str, where: str) -> list[dict]:
    if not isinstance(raw, list) or not raw:
        _fail("levels 应为非空列表", source, where)
    levels: list[dict] = []
    for i, item in enumerate(raw):
        at = f"{where}.levels[{i}]"
        if not isinstance(item, dict) or not set(item) <= LEVEL_KEYS or not {"level", "at"} <= set(item):
            _fail("级别应含 level 与 at，可选 notify、duty", source, at)
        if not isinstance(item["level"], int) or isinstance(item["level"], bool) or not 1 <= item["level"] <= 3:
            _fail("level 应为 1–3 的整数", source, at)
        if not isinstance(item["at"], int | float) or isinstance(item["at"], bool) or not 0 < item["at"] < 1e9:
            _fail("at 应为正数", source, at)
        notify = item.get("notify", [])
        if not isinstance(notify, list):
            _fail("notify 应为列表", source, at)
        levels.append(
            {
                "level": item["level"],
                "at": item["at"],
                "duty": bool(item.get("duty", False)),
                "notify": [_target(t, source, f"{at}.notify[{j}]") for j, t in enumerate(notify)],
            }
        )
    numbers = [x["level"] for x in levels]
    if len(set(numbers)) != len(numbers):
        _fail("级别重复", source, where)
    ordered = sorted(levels, key=lambda x: x["level"])
    if any(a["at"] > b["at"] for a, b in zip(ordered, ordered[1:], strict=False)):
        _fail("级别越高，at 应越大", source, where)
    return ordered


def _params(raw: Any, source: str, where: str) -> dict:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not set(raw) <= PARAM_KEYS:
        _fail(f"params 可选 {', '.join(sorted(PARAM_KEYS))}", source, where)
    for key, value in raw.items():
        if not isinstance(value, int | float) or isinstance(value, bool) or not 0 < value < 1e6:
            _fail(f"params.{key} 应为正数", source, where)
    if raw.get("ratio", 2) <= 1:
        _fail("params.ratio 应大于 1", source, where)
    return dict(raw)


def alerts_parse(document: dict, source: str) -> list[RuleSpec]:
    """Check the ``alerts:`` section; return its rules ([] when absent). Writes nothing."""
    section = document.get("alerts")
    if section is None:
        return []
    if not isinstance(section, dict) or not isinstance(section.get("rules"), list):
        _fail("alerts 段应含 rules 列表", source, "alerts")
    specs: list[RuleSpec] = []
    for i, raw in enumerate(section["rules"]):
        where = f"alerts.rules[{i}]"
        if not isinstance(raw, dict) or not set(raw) <= RULE_KEYS:
            unknown = sorted(set(raw) - RULE_KEYS) if isinstance(raw, dict) else []
            _fail(f"预警规则应为映射；未知字段 {unknown}", source, where)
        code = raw.get("code")
        if (
            not isinstance(code, str)
            or not code
            or len(code) > 64
            or not code.replace("-", "").replace("_", "").isalnum()
        ):
            _fail("code 应为 1–64 个字母、数字、- 或 _", source, where)
        if any(s.code == code for s in specs):
            _fail(f"规则 {code} 重复", source, where)
        group_by = _choice(raw.get("group_by", GroupBy.CATEGORY), GroupBy.values, "group_by", source, where)
        level = raw.get("category_level")
        if level is not None and (not isinstance(level, int) or not 1 <= level <= 5):
            _fail("category_level 应为 1–5", source, where)
        size = raw.get("size", 1)
        if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= 10000:
            _fail("size 应为 1–10000 的整数", source, where)
        version = raw.get("version", 1)
        if not isinstance(version, int) or version < 1:
            _fail("version 应为正整数", source, where)
        min_count = raw.get("min_count", 1)
        if not isinstance(min_count, int) or not 0 <= min_count <= 1_000_000:
            _fail("min_count 应为非负整数", source, where)
        channel = raw.get("channel") or ""
        if channel:
            _choice(channel, Channel.values, "channel", source, where)
        condition = _choice(raw.get("condition", Condition.THRESHOLD), Condition.values, "condition", source, where)
        window = _choice(raw.get("window"), WindowKind.values, "window", source, where)
        measure = _choice(raw.get("measure", Measure.NEW), Measure.values, "measure", source, where)
        if condition != Condition.THRESHOLD and measure != Measure.NEW:
            _fail("基线/统计检测只支持 measure: new", source, where)
        if condition != Condition.THRESHOLD and group_by == GroupBy.CLUSTER:
            _fail("相似簇规则使用阈值条件", source, where)
        specs.append(
            RuleSpec(
                code=code,
                where=where,
                fields={
                    "name": str(raw.get("name") or code)[:200],
                    "description": str(raw.get("description") or ""),
                    "version": version,
                    "active": bool(raw.get("active", True)),
                    "channel": channel,
                    "flag": str(raw.get("flag") or "")[:20],
                    "group_by": group_by,
                    "category_level": level,
                    "window_kind": window,
                    "window_size": size,
                    "measure": measure,
                    "condition": condition,
                    "params": _params(raw.get("params"), source, where),
                    "min_count": min_count,
                    "levels": _levels(raw.get("levels"), source, where),
                    "crisis": bool(raw.get("crisis", False)),
                },
                category_code=raw.get("category"),
                branch_code=raw.get("branch"),
            )
        )
    return specs


def alerts_load(specs: list[RuleSpec], source: str, *, sandbox: bool = False, pack: str = "") -> SectionResult | None:
    """Write parsed rules (idempotent by code); call after the categories section."""
    if not specs:
        return None
    from kuaixiang.triage.models import Category

    created = updated = unchanged = 0
    for spec in specs:
        values = dict(spec.fields, category=None, branch=None)
        if pack:
            values["pack"] = pack
        if spec.category_code:
            values["category"] = Category.objects.filter(code=spec.category_code).first()
            if values["category"] is None:
                _fail(f"分类不存在：{spec.category_code}", source, spec.where)
        if spec.branch_code:
            values["branch"] = Department.objects.filter(code=spec.branch_code).first()
            if values["branch"] is None:
                _fail(f"单位不存在：{spec.branch_code}", source, spec.where)
        rule = WarningRule.objects.filter(code=spec.code, sandbox=sandbox).first()
        if rule is None:
            WarningRule.objects.create(code=spec.code, sandbox=sandbox, **values)
            created += 1
        elif any(getattr(rule, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(rule, k, v)
            rule.save()
            updated += 1
        else:
            unchanged += 1
    return SectionResult(created, updated, unchanged)
