"""Load the ``categories:`` section of a YAML rule pack into ``triage.Category``.

A pack is a YAML mapping; its ``categories`` key holds a list of nodes, each with a
``code`` (stable identifier), a ``name``, optional ``children`` and optional
``active: false``. Loading is idempotent by code: a node whose code exists is renamed,
moved or (de)activated in place, an unchanged node is not written, a new code is created,
and categories the pack does not mention are left alone. The whole pack is checked before
anything is written (and written in one transaction), so a malformed pack changes nothing.
"""

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from kuaixiang.rulepacks import RulepackError, SectionResult
from kuaixiang.triage.models import MAX_CATEGORY_DEPTH, Category

NODE_KEYS = frozenset({"code", "name", "children", "active"})
MAX_CODE = Category._meta.get_field("code").max_length
MAX_NAME = Category._meta.get_field("name").max_length
MAX_FULL_NAME = Category._meta.get_field("full_name").max_length


@dataclass
class CategoryNode:
    code: str
    name: str
    active: bool
    level: int
    where: str
    parent_code: str | None = None
    children: list["CategoryNode"] = field(default_factory=list)


# ---------------------------------------------------------------- parsing (no database)


def _text(node: dict, key: str, limit: int, source: str, where: str) -> str:
    value = node.get(key)
    if not isinstance(value, str) or not value.strip():
        raise RulepackError(f"缺少 {key}，或 {key} 不是非空文本（得到 {value!r}）", source=source, where=where)
    value = value.strip()
    if len(value) > limit:
        raise RulepackError(f"{key} 过长，最多 {limit} 个字符", source=source, where=where)
    return value


def _node(raw: Any, *, level: int, parent: CategoryNode | None, where: str, source: str) -> CategoryNode:
    if not isinstance(raw, dict):
        raise RulepackError(
            f"分类节点应为映射（code、name、children），得到 {type(raw).__name__}", source=source, where=where
        )
    unknown = sorted(str(k) for k in raw if k not in NODE_KEYS)
    if unknown:
        allowed = "、".join(sorted(NODE_KEYS))
        raise RulepackError(f"未知字段 {', '.join(unknown)}（可用：{allowed}）", source=source, where=where)
    base = where
    code = _text(raw, "code", MAX_CODE, source, where)
    if any(ch.isspace() for ch in code):
        raise RulepackError(f"code 不能含空白字符：{code!r}", source=source, where=where)
    where = f"{base}（code={code}）"
    name = _text(raw, "name", MAX_NAME, source, where)
    if level > MAX_CATEGORY_DEPTH:
        raise RulepackError(
            f"分类「{name}」位于第 {level} 级，分类树最多 {MAX_CATEGORY_DEPTH} 级", source=source, where=where
        )
    active = raw.get("active", True)
    if not isinstance(active, bool):
        raise RulepackError(f"active 应为 true 或 false，得到 {active!r}", source=source, where=where)
    node = CategoryNode(code, name, active, level, where, parent.code if parent else None)
    children = raw.get("children")
    if children is None:
        return node
    if not isinstance(children, list):
        raise RulepackError("children 应为列表", source=source, where=where)
    for index, child in enumerate(children):
        child_where = f"{base}.children[{index}]"
        node.children.append(_node(child, level=level + 1, parent=node, where=child_where, source=source))
    return node


def _preorder(nodes: list[CategoryNode]):
    for node in nodes:
        yield node
        yield from _preorder(node.children)


def categories_parse(document: dict, source: str = "<text>") -> list[CategoryNode] | None:
    """Return the category forest of a pack (None without a ``categories`` section); raise
    ``RulepackError`` naming what is wrong."""
    raw = document.get("categories")
    if raw is None:
        return None
    if not isinstance(raw, list) or not raw:
        raise RulepackError("categories 应为非空列表", source=source, where="categories")
    roots = [_node(item, level=1, parent=None, where=f"categories[{i}]", source=source) for i, item in enumerate(raw)]
    seen: dict[str, CategoryNode] = {}
    names: dict[str, str] = {}
    for node in _preorder(roots):
        if node.code in seen:
            raise RulepackError(
                f"code 重复：{node.code}（另见 {seen[node.code].where}）", source=source, where=node.where
            )
        seen[node.code] = node
        full_name = f"{names[node.parent_code]} / {node.name}" if node.parent_code else node.name
        if len(full_name) > MAX_FULL_NAME:
            raise RulepackError(f"完整路径过长，最多 {MAX_FULL_NAME} 个字符", source=source, where=node.where)
        names[node.code] = full_name
    return roots


# ---------------------------------------------------------------- loading


def _save(category: Category, node: CategoryNode, source: str) -> None:
    """Save one node; its descendants follow (``Category.save``). A too-deep result is a pack error."""
    try:
        category.save()
    except ValidationError:
        raise RulepackError(
            f"分类「{node.name}」放在此处会使其下级超过第 {MAX_CATEGORY_DEPTH} 级（最多 {MAX_CATEGORY_DEPTH} 级）",
            source=source,
            where=node.where,
        ) from None


@transaction.atomic
def categories_load(roots: list[CategoryNode] | None, source: str = "<text>") -> SectionResult | None:
    """Create or update the categories of a parsed pack, matching by code; return the counts."""
    if roots is None:
        return None
    existing = {c.code: c for c in Category.objects.all()}
    saved: dict[str, Category] = {}
    created = updated = unchanged = 0
    for node in _preorder(roots):
        parent = saved[node.parent_code] if node.parent_code else None
        category = existing.get(node.code)
        if category is None:
            category = Category(code=node.code, name=node.name, parent=parent, active=node.active)
            _save(category, node, source)
            created += 1
        else:
            expected = (
                node.name,
                parent.pk if parent else None,
                node.active,
                node.level,
                f"{parent.full_name} / {node.name}" if parent else node.name,
                f"{parent.path if parent else '/'}{category.pk}/",
            )
            stored = (category.name, category.parent_id, category.active, category.level, category.full_name)
            if stored + (category.path,) == expected:
                unchanged += 1
            else:
                category.name, category.parent, category.active = node.name, parent, node.active
                _save(category, node, source)
                updated += 1
        saved[node.code] = category
    return SectionResult(created, updated, unchanged)


# ---------------------------------------------------------------- grading rules

GRADING_FIELDS = ("name", "description", "priority", "when", "then", "stop", "active")


def _category_codes(conditions: dict) -> set[str]:
    codes = set(conditions.get("category_in") or [])
    for alternative in conditions.get("any") or []:
        codes |= _category_codes(alternative)
    return codes


def grading_parse(document: dict, source: str = "<text>") -> list[dict] | None:
    """Return the ``grading`` rules of a pack as field dicts (None without the section); raise
    ``RulepackError`` naming the rule and key when a rule cannot be evaluated."""
    from kuaixiang.triage.grading import GradingRuleError, parse_rule

    raw = document.get("grading")
    if raw is None:
        return None
    if not isinstance(raw, list) or not raw:
        raise RulepackError("grading 应为非空规则列表", source=source, where="grading")
    specs: list[dict] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        where = f"grading[{index}]"
        try:
            rule = parse_rule(item, where)
        except GradingRuleError as exc:
            raise RulepackError(exc.message, source=source, where=exc.where) from None
        if rule.code in seen:
            raise RulepackError(f"规则编码 {rule.code} 重复", source=source, where=where)
        if "version" in item:
            raise RulepackError("version 由系统在规则变更时递增，规则包中不要填写", source=source, where=where)
        description = item.get("description", "")
        if not isinstance(description, str):
            raise RulepackError("description 应为文本", source=source, where=where)
        active = item.get("active", True)
        if not isinstance(active, bool):
            raise RulepackError(f"active 应为 true 或 false，得到 {active!r}", source=source, where=where)
        seen.add(rule.code)
        specs.append(
            {
                "code": rule.code,
                "where": where,
                "name": rule.name,
                "description": description,
                "priority": rule.priority,
                "when": item.get("when") or {},
                "then": item["then"],
                "stop": rule.stop,
                "active": active,
            }
        )
    return specs


@transaction.atomic
def grading_load(specs: list[dict] | None, source: str = "<text>") -> SectionResult | None:
    """Create or update grading rules by code (rules the pack does not mention are left alone);
    a rule naming a category code that does not exist is a pack error."""
    if specs is None:
        return None
    from kuaixiang.triage.models import GradingRule

    known = set(Category.objects.values_list("code", flat=True))
    existing = {r.code: r for r in GradingRule.objects.all()}
    created = updated = unchanged = 0
    for spec in specs:
        missing = sorted(_category_codes(spec["when"]) - known)
        if missing:
            raise RulepackError(f"分类不存在：{', '.join(missing)}", source=source, where=spec["where"])
        values = {key: spec[key] for key in GRADING_FIELDS}
        rule = existing.get(spec["code"])
        if rule is None:
            GradingRule.objects.create(code=spec["code"], **values)
            created += 1
        elif all(getattr(rule, key) == value for key, value in values.items()):
            unchanged += 1
        else:
            for key, value in values.items():
                setattr(rule, key, value)
            rule.save()
            updated += 1
    return SectionResult(created, updated, unchanged)
