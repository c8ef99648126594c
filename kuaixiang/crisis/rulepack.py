"""Load the ``playbooks:`` section of a YAML rule pack (docs/crisis.md shows the format).

A playbook is identified by ``code`` + ``version``; loading is idempotent (roles matched by
``key``, steps by ``key``) and changes an existing version in place, so the running incidents
keep the tasks they were given. To change a plan for future incidents, add a new version. The
whole section is checked before anything is written.
"""

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from kuaixiang.crisis.criteria import SEVERITIES
from kuaixiang.crisis.models import Anchor, Playbook, PlaybookRole, PlaybookStep, StepKind, StepScope
from kuaixiang.org.models import Department
from kuaixiang.org.roles import Role
from kuaixiang.rulepacks import RulepackError, SectionResult, children_sync
from kuaixiang.sla.models import TimeUnit

PLAYBOOK_KEYS = frozenset(
    {"code", "version", "name", "description", "source", "active", "activation", "severity", "roles", "steps"}
)
ACTIVATION_KEYS = frozenset({"warning_level", "rules", "flags"})
ROLE_KEYS = frozenset({"label", "staff_roles", "functions"})
STEP_KEYS = frozenset({"key", "title", "kind", "due", "owner", "checklist", "notify", "scope"})
DUE_KEYS = frozenset({"after", "unit", "from", "by_severity"})
ANCHOR_NAMES = {"activation": Anchor.ACTIVATION, "close": Anchor.CLOSE}


@dataclass
class PlaybookSpec:
    code: str
    version: int
    where: str
    fields: dict[str, Any]
    roles: dict[str, dict[str, Any]] = field(default_factory=dict)
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)


def _fail(message: str, source: str, where: str):
    raise RulepackError(message, source=source, where=where)


def _strings(raw: Any, allowed: set[str] | None, what: str, source: str, where: str) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(x, str) and x for x in raw):
        _fail(f"{what} 应为字符串列表", source, where)
    if allowed is not None and not set(raw) <= allowed:
        _fail(f"{what} 无效：{sorted(set(raw) - allowed)}；可选 {', '.join(sorted(allowed))}", source, where)
    return list(raw)


def _slug(raw: Any, what: str, source: str, where: str) -> str:
    if not isinstance(raw, str) or not raw or len(raw) > 40 or not raw.replace("_", "").replace("-", "").isalnum():
        _fail(f"{what} 应为 1–40 位字母、数字、下划线或连字符", source, where)
    return raw


def _amount(raw: Any, unit: str, source: str, where: str) -> Decimal:
    try:
        amount = Decimal(str(raw))
    except InvalidOperation:
        _fail("时限应为数字", source, where)
    if not amount.is_finite() or amount < 0 or amount > 100000:
        _fail("时限应为 0–100000 之间的数字", source, where)
    if unit in (TimeUnit.WORKING_DAYS, TimeUnit.NATURAL_DAYS) and amount != amount.to_integral_value():
        _fail("按天计算时时限须为整数", source, where)
    return amount


def _roles(raw: Any, source: str, where: str) -> dict[str, dict[str, Any]]:
    if not isinstance(raw, dict) or not raw:
        _fail("roles 应为非空映射：角色键 → {label, staff_roles, functions}", source, where)
    out = {}
    for key, value in raw.items():
        at = f"{where}.{key}"
        _slug(key, "角色键", source, at)
        if not isinstance(value, dict) or not set(value) <= ROLE_KEYS or "staff_roles" not in value:
            _fail(f"角色应含 staff_roles，可选 {', '.join(sorted(ROLE_KEYS))}", source, at)
        staff_roles = _strings(value["staff_roles"], set(Role.values), "staff_roles", source, at)
        if not staff_roles:
            _fail("staff_roles 不能为空", source, at)
        out[key] = {
            "label": str(value.get("label") or key)[:60],
            "staff_roles": staff_roles,
            "functions": _strings(value.get("functions"), set(Department.Function.values), "functions", source, at),
        }
    return out


def _step(raw: Any, order: int, roles: dict, source: str, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict) or not set(raw) <= STEP_KEYS or not {"key", "title", "due", "owner"} <= set(raw):
        _fail(f"步骤应含 key、title、due、owner，可选 {', '.join(sorted(STEP_KEYS))}", source, where)
    due = raw["due"]
    if not isinstance(due, dict) or not set(due) <= DUE_KEYS or not {"after", "unit"} <= set(due):
        _fail("due 应含 after 与 unit，可选 from（activation/close）、by_severity", source, where)
    if due["unit"] not in TimeUnit.values:
        _fail(f"单位无效：{due['unit']}；可选 {', '.join(TimeUnit.values)}", source, where)
    anchor = ANCHOR_NAMES.get(due.get("from", "activation"))
    if anchor is None:
        _fail("from 应为 activation 或 close", source, where)
    by_severity = due.get("by_severity") or {}
    if not isinstance(by_severity, dict) or not set(by_severity) <= set(SEVERITIES):
        _fail(f"by_severity 的键应为 {', '.join(SEVERITIES)}", source, where)
    kind = raw.get("kind", StepKind.GENERIC)
    if kind not in StepKind.values:
        _fail(f"kind 无效：{kind}；可选 {', '.join(StepKind.values)}", source, where)
    scope = raw.get("scope", StepScope.BOTH)
    if scope not in StepScope.values:
        _fail(f"scope 无效：{scope}；可选 {', '.join(StepScope.values)}", source, where)
    if raw["owner"] not in roles:
        _fail(f"owner 须为本预案的角色键：{raw['owner']}", source, where)
    notify = _strings(raw.get("notify"), set(roles), "notify", source, where)
    checklist = _strings(raw.get("checklist"), None, "checklist", source, where)
    title = raw["title"]
    if not isinstance(title, str) or not title.strip():
        _fail("title 不能为空", source, where)
    return {
        "order": order,
        "title": title.strip()[:120],
        "kind": kind,
        "anchor": anchor,
        "amount": _amount(due["after"], due["unit"], source, where),
        "unit": due["unit"],
        "amount_by_severity": {
            k: float(_amount(v, due["unit"], source, f"{where}.due.by_severity.{k}")) for k, v in by_severity.items()
        },
        "owner_role": raw["owner"],
        "checklist": [c.strip()[:200] for c in checklist],
        "notify_roles": notify,
        "scope": scope,
    }


def playbooks_parse(document: dict, source: str) -> list[PlaybookSpec]:
    """Check the ``playbooks:`` section (a list); return its specs ([] when absent). No writes."""
    section = document.get("playbooks")
    if section is None:
        return []
    if not isinstance(section, list):
        _fail("playbooks 段应为预案列表", source, "playbooks")
    specs: list[PlaybookSpec] = []
    for i, raw in enumerate(section):
        where = f"playbooks[{i}]"
        if not isinstance(raw, dict) or not set(raw) <= PLAYBOOK_KEYS:
            unknown = sorted(map(str, set(raw) - PLAYBOOK_KEYS)) if isinstance(raw, dict) else []
            _fail(f"预案应为映射；未知字段 {unknown}", source, where)
        code = raw.get("code")
        if not isinstance(code, str) or not code or len(code) > 50:
            _fail("缺少 code", source, where)
        version = raw.get("version", 1)
        if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= 10000:
            _fail("version 应为正整数", source, where)
        activation = raw.get("activation") or {}
        if not isinstance(activation, dict) or not set(activation) <= ACTIVATION_KEYS:
            _fail(f"activation 可含 {', '.join(sorted(ACTIVATION_KEYS))}", source, f"{where}.activation")
        level = activation.get("warning_level")
        if level is not None and (not isinstance(level, int) or isinstance(level, bool) or not 1 <= level <= 3):
            _fail("warning_level 应为 1–3", source, f"{where}.activation")
        severity = raw.get("severity", "orange")
        if severity not in SEVERITIES:
            _fail(f"severity 应为 {', '.join(SEVERITIES)}", source, where)
        roles = _roles(raw.get("roles"), source, f"{where}.roles")
        steps_raw = raw.get("steps")
        if not isinstance(steps_raw, list) or not steps_raw:
            _fail("steps 应为非空列表", source, where)
        steps: dict[str, dict[str, Any]] = {}
        for j, item in enumerate(steps_raw):
            step = _step(item, j + 1, roles, source, f"{where}.steps[{j}]")
            key = _slug(item["key"], "步骤键", source, f"{where}.steps[{j}]")
            if key in steps:
                _fail(f"步骤键重复：{key}", source, f"{where}.steps[{j}]")
            steps[key] = step
        if any(s.code == code and s.version == version for s in specs):
            _fail(f"预案 {code} v{version} 重复", source, where)
        specs.append(
            PlaybookSpec(
                code=code,
                version=version,
                where=where,
                fields={
                    "name": str(raw.get("name") or code)[:100],
                    "description": str(raw.get("description") or ""),
                    "source": str(raw.get("source") or "")[:200],
                    "active": bool(raw.get("active", True)),
                    "min_warning_level": level,
                    "rule_codes": _strings(activation.get("rules"), None, "rules", source, f"{where}.activation"),
                    "flags": _strings(activation.get("flags"), None, "flags", source, f"{where}.activation"),
                    "default_severity": severity,
                },
                roles=roles,
                steps=steps,
            )
        )
    return specs


def playbooks_load(specs: list[PlaybookSpec], source: str) -> SectionResult | None:
    """Write parsed playbooks (inside the pack's transaction); idempotent by code + version."""
    if not specs:
        return None
    created = updated = unchanged = 0
    for spec in specs:
        playbook = Playbook.objects.filter(code=spec.code, version=spec.version).first()
        if playbook is None:
            playbook = Playbook.objects.create(code=spec.code, version=spec.version, **spec.fields)
            children_sync(PlaybookRole, {}, spec.roles, owner={"playbook": playbook}, key_field="key")
            children_sync(PlaybookStep, {}, spec.steps, owner={"playbook": playbook}, key_field="key")
            created += 1
            continue
        changed = any(getattr(playbook, k) != v for k, v in spec.fields.items())
        if changed:
            for k, v in spec.fields.items():
                setattr(playbook, k, v)
            playbook.save()
        for model, existing, items in (
            (PlaybookRole, playbook.roles, spec.roles),
            (PlaybookStep, playbook.steps, spec.steps),
        ):
            current = {child.key: child for child in existing.all()}
            changed = children_sync(model, current, items, owner={"playbook": playbook}, key_field="key") or changed
        if changed:
            updated += 1
        else:
            unchanged += 1
    return SectionResult(created, updated, unchanged)
