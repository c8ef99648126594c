"""Grading rules as data: conditions on a complaint's facts → severity, intent, request type,
validity and flags, with the reasons each matched rule gives (no Django).

A rule is a mapping (from the ``grading`` section of a rule pack, or a ``GradingRule`` row)::

    code: safety-words            # stable identifier
    name: 安全隐患                 # shown to the agent
    priority: 10                  # lower runs first; ties by code
    when:                         # every key must hold (an empty ``when`` always holds)
      keywords: [起火, 爆炸, 漏电]   # any of them in subject + description + appeal
    then:
      severity: major             # raise to at least this (never lowers)
      flags: [safety]             # added
    stop: false                   # true: later rules are not evaluated

Condition keys (:data:`CONDITION_KEYS`): ``amount_min`` (claimed amount ≥), ``channel_in``
(channel codes), ``category_in`` (category codes; a complaint matches when its category or
one of its ancestors is listed), ``keywords`` (any), ``keywords_all``, ``regex`` (Python
regular expression searched in the text), ``anonymous`` and ``has_phone`` (booleans),
``text_len_max`` (at most this many letters and digits in the description: too vague),
``repeat`` (boolean: the same complainant about the same subject within the repeat window),
``phone_history`` / ``same_subject`` / ``same_category`` (``{days: N, min: M}``: complaints by
the same phone / with the same 被投诉对象 in the same category / in the same category received
in the last N days, *this one included*, at least M) and ``any`` (a list of condition mappings, one must hold).

Outcome keys (:data:`OUTCOME_KEYS`): ``severity`` (the highest of all matched rules and the
agent's own choice wins), ``intent``, ``request_type`` and ``validity`` + ``validity_reason``
(the first matched rule setting each wins) and ``flags`` (union).

``parse_rules`` checks everything up front (unknown keys, bad codes, regexes that do not
compile) and raises :class:`GradingRuleError` naming the rule and key; ``grade`` then never
fails. :func:`needs` tells the caller which counts to fetch for a rule set.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = [
    "CONDITION_KEYS",
    "OUTCOME_KEYS",
    "SEVERITIES",
    "Facts",
    "Grade",
    "GradingRuleError",
    "Needs",
    "Rule",
    "grade",
    "needs",
    "parse_rule",
    "parse_rules",
]

SEVERITIES = ("general", "important", "major", "urgent")  # ascending
SEVERITY_LABELS = {"general": "一般", "important": "重要", "major": "重大", "urgent": "紧急"}
INTENTS = {"suggestion": "建议型", "grievance": "问题型", "malicious": "恶意"}
REQUEST_TYPES = {
    "consultation": "咨询",
    "help": "求助",
    "complaint": "投诉",
    "report": "举报",
    "suggestion": "建议",
    "criticism": "批评",
}
VALIDITY = {"valid": "有效", "invalid": "无效"}
VALIDITY_REASONS = {
    "anonymous": "匿名",
    "no_contact": "无联系方式",
    "too_vague": "内容不明确",
    "out_of_scope": "不属受理范围",
}
FLAGS = {"media": "媒体", "safety": "安全", "legal": "法律", "group": "群体", "government": "政府关注"}

CONDITION_KEYS = frozenset(
    {
        "amount_min",
        "channel_in",
        "category_in",
        "keywords",
        "keywords_all",
        "regex",
        "anonymous",
        "has_phone",
        "text_len_max",
        "repeat",
        "phone_history",
        "same_subject",
        "same_category",
        "any",
    }
)
OUTCOME_KEYS = frozenset({"severity", "intent", "request_type", "validity", "validity_reason", "flags"})
RULE_KEYS = frozenset({"code", "name", "priority", "when", "then", "stop", "version", "active", "description"})
COUNT_KEYS = ("phone_history", "same_subject", "same_category")
MAX_WINDOW_DAYS = 3660
_NOT_WORD = re.compile(r"[\W_]+")


class GradingRuleError(ValueError):
    """A rule that cannot be evaluated; ``where`` names the rule and key, ``message`` is Chinese."""

    def __init__(self, message: str, where: str = ""):
        super().__init__(f"{where}：{message}" if where else message)
        self.message = message
        self.where = where


def normalise_text(text: str) -> str:
    """What keywords and regular expressions are matched against: NFKC, lower case."""
    return unicodedata.normalize("NFKC", text).lower()


@dataclass(frozen=True)
class Facts:
    """What a rule can look at, gathered by the caller before the complaint is saved.

    ``*_counts`` map a window in days to the number of complaints in it, this one included;
    they must hold every window :func:`needs` names for the rules evaluated.
    """

    text: str = ""
    description: str = ""
    channel: str = ""
    amount: Decimal | None = None
    anonymous: bool = False
    has_phone: bool = True
    category_codes: frozenset[str] = frozenset()  # the category and all its ancestors
    repeat: bool = False
    phone_counts: Mapping[int, int] = field(default_factory=dict)
    subject_counts: Mapping[int, int] = field(default_factory=dict)
    category_counts: Mapping[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Needs:
    """Windows (days) for which the caller must count complaints."""

    phone_days: frozenset[int] = frozenset()
    subject_days: frozenset[int] = frozenset()
    category_days: frozenset[int] = frozenset()
    repeat: bool = False

    def __or__(self, other: Needs) -> Needs:
        return Needs(
            self.phone_days | other.phone_days,
            self.subject_days | other.subject_days,
            self.category_days | other.category_days,
            self.repeat or other.repeat,
        )


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    priority: int
    when: tuple  # compiled conditions: tuple of (key, value)
    then: Mapping[str, Any]
    stop: bool = False
    version: int = 1
    raw_when: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Grade:
    """The verdict, and for each matched rule its code, name, version and the reasons it held."""

    severity: str = "general"
    intent: str = "grievance"
    request_type: str = "complaint"
    validity: str = "valid"
    validity_reason: str = ""
    flags: list[str] = field(default_factory=list)
    matched: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "severity": self.severity,
            "intent": self.intent,
            "request_type": self.request_type,
            "validity": self.validity,
            "validity_reason": self.validity_reason,
            "flags": list(self.flags),
            "matched": list(self.matched),
        }


# ---------------------------------------------------------------- parsing


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise GradingRuleError(f"应为 true 或 false，得到 {value!r}", where)
    return value


def _words(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(w, str) and w.strip() for w in value):
        raise GradingRuleError(f"应为非空文本列表，得到 {value!r}", where)
    return tuple(normalise_text(w.strip()) for w in value)


def _window(value: Any, where: str) -> tuple[int, int]:
    if not isinstance(value, dict) or set(value) - {"days", "min"} or "days" not in value or "min" not in value:
        raise GradingRuleError(f"应为 {{days: 天数, min: 条数}}，得到 {value!r}", where)
    days, least = value["days"], value["min"]
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_WINDOW_DAYS:
        raise GradingRuleError(f"days 应为 1–{MAX_WINDOW_DAYS} 的整数，得到 {days!r}", where)
    if not isinstance(least, int) or isinstance(least, bool) or not 1 <= least <= 1_000_000:
        raise GradingRuleError(f"min 应为正整数，得到 {least!r}", where)
    return days, least


def _condition(key: str, value: Any, where: str):
    at = f"{where}.{key}"
    match key:
        case "amount_min":
            try:
                amount = Decimal(str(value))
            except InvalidOperation:
                raise GradingRuleError(f"应为金额数字，得到 {value!r}", at) from None
            if isinstance(value, bool) or not amount.is_finite() or amount < 0:
                raise GradingRuleError(f"应为非负金额，得到 {value!r}", at)
            return amount
        case "channel_in" | "category_in":
            words = _words(value, at)
            return frozenset(words)
        case "keywords":
            words = _words(value, at)
            return words, re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)))
        case "keywords_all":
            return _words(value, at)
        case "regex":
            if not isinstance(value, str) or not value:
                raise GradingRuleError(f"应为正则表达式文本，得到 {value!r}", at)
            try:
                return re.compile(value, re.IGNORECASE)
            except re.error as exc:
                raise GradingRuleError(f"正则表达式有误：{exc}", at) from None
        case "anonymous" | "has_phone" | "repeat":
            return _bool(value, at)
        case "text_len_max":
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise GradingRuleError(f"应为非负整数，得到 {value!r}", at)
            return value
        case "phone_history" | "same_subject" | "same_category":
            return _window(value, at)
        case "any":
            if not isinstance(value, list) or not value:
                raise GradingRuleError("应为条件列表", at)
            return tuple(_conditions(item, f"{at}[{i}]") for i, item in enumerate(value))
    allowed = "、".join(sorted(CONDITION_KEYS))
    raise GradingRuleError(f"未知条件 {key}（可用：{allowed}）", at)


def _conditions(when: Any, where: str) -> tuple:
    if when is None:
        return ()
    if not isinstance(when, dict):
        raise GradingRuleError(f"条件应为映射，得到 {type(when).__name__}", where)
    return tuple((str(key), _condition(str(key), value, where)) for key, value in when.items())


def _choice(value: Any, choices: Mapping[str, str], where: str) -> str:
    if value not in choices:
        raise GradingRuleError(f"应为 {'、'.join(choices)} 之一，得到 {value!r}", where)
    return value


def _outcome(then: Any, where: str) -> dict:
    if not isinstance(then, dict) or not then:
        raise GradingRuleError("结果（then）应为非空映射", where)
    unknown = sorted(str(k) for k in then if k not in OUTCOME_KEYS)
    if unknown:
        raise GradingRuleError(f"未知结果 {', '.join(unknown)}（可用：{'、'.join(sorted(OUTCOME_KEYS))}）", where)
    out: dict[str, Any] = {}
    if "severity" in then:
        out["severity"] = _choice(then["severity"], SEVERITY_LABELS, f"{where}.severity")
    if "intent" in then:
        out["intent"] = _choice(then["intent"], INTENTS, f"{where}.intent")
    if "request_type" in then:
        out["request_type"] = _choice(then["request_type"], REQUEST_TYPES, f"{where}.request_type")
    if "validity" in then:
        out["validity"] = _choice(then["validity"], VALIDITY, f"{where}.validity")
    if "validity_reason" in then:
        if out.get("validity") != "invalid":
            raise GradingRuleError("validity_reason 只能与 validity: invalid 一起使用", where)
        out["validity_reason"] = _choice(then["validity_reason"], VALIDITY_REASONS, f"{where}.validity_reason")
    elif out.get("validity") == "invalid":
        raise GradingRuleError("validity: invalid 需要同时给出 validity_reason", where)
    if "flags" in then:
        flags = then["flags"]
        if isinstance(flags, str):
            flags = [flags]
        if not isinstance(flags, list):
            raise GradingRuleError(f"flags 应为列表，得到 {flags!r}", f"{where}.flags")
        out["flags"] = [_choice(f, FLAGS, f"{where}.flags") for f in flags]
    return out


def parse_rule(raw: Any, where: str = "rule") -> Rule:
    """Check one rule mapping and compile it; raise :class:`GradingRuleError` naming the node."""
    if not isinstance(raw, dict):
        raise GradingRuleError(f"规则应为映射，得到 {type(raw).__name__}", where)
    unknown = sorted(str(k) for k in raw if k not in RULE_KEYS)
    if unknown:
        raise GradingRuleError(f"未知字段 {', '.join(unknown)}（可用：{'、'.join(sorted(RULE_KEYS))}）", where)
    code = raw.get("code")
    if not isinstance(code, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", code):
        raise GradingRuleError(f"code 应为 1–64 个字母、数字、-、_ 或 .，得到 {code!r}", where)
    where = f"{where}({code})"
    name = raw.get("name", code)
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        raise GradingRuleError("name 应为 1–100 个字符的文本", where)
    priority = raw.get("priority", 100)
    if not isinstance(priority, int) or isinstance(priority, bool) or not -10_000 <= priority <= 10_000:
        raise GradingRuleError(f"priority 应为 -10000–10000 的整数，得到 {priority!r}", where)
    version = raw.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise GradingRuleError(f"version 应为正整数，得到 {version!r}", where)
    when = raw.get("when") or {}
    return Rule(
        code=code,
        name=name.strip(),
        priority=priority,
        when=_conditions(when, f"{where}.when"),
        then=_outcome(raw.get("then"), f"{where}.then"),
        stop=_bool(raw.get("stop", False), f"{where}.stop"),
        version=version,
        raw_when=when,
    )


def parse_rules(raws: Iterable[Any], where: str = "grading") -> list[Rule]:
    """Parse many rules (codes must be unique) and sort them by (priority, code)."""
    rules: list[Rule] = []
    seen: set[str] = set()
    for i, raw in enumerate(raws):
        rule = parse_rule(raw, f"{where}[{i}]")
        if rule.code in seen:
            raise GradingRuleError(f"规则编码 {rule.code} 重复", f"{where}[{i}]")
        seen.add(rule.code)
        rules.append(rule)
    return sorted(rules, key=lambda r: (r.priority, r.code))


def _needs(conditions: tuple) -> Needs:
    result = Needs()
    for key, value in conditions:
        if key == "phone_history":
            result = result | Needs(phone_days=frozenset({value[0]}))
        elif key == "same_subject":
            result = result | Needs(subject_days=frozenset({value[0]}))
        elif key == "same_category":
            result = result | Needs(category_days=frozenset({value[0]}))
        elif key == "repeat":
            result = result | Needs(repeat=True)
        elif key == "any":
            for alternative in value:
                result = result | _needs(alternative)
    return result


def needs(rules: Iterable[Rule]) -> Needs:
    """The counts (by window) and the repeat check the caller must supply in :class:`Facts`."""
    result = Needs()
    for rule in rules:
        result = result | _needs(rule.when)
    return result


# ---------------------------------------------------------------- evaluation


def _holds(key: str, value: Any, facts: Facts, why: list[str]) -> bool:  # noqa: C901 - one branch per key
    match key:
        case "amount_min":
            if facts.amount is not None and facts.amount >= value:
                why.append(f"索赔金额 {facts.amount:,.2f} ≥ {value:,.2f} 元")
                return True
            return False
        case "channel_in":
            if facts.channel in value:
                why.append(f"渠道为 {facts.channel}")
                return True
            return False
        case "category_in":
            hit = value & facts.category_codes
            if hit:
                why.append(f"分类属于 {'、'.join(sorted(hit))}")
                return True
            return False
        case "keywords":
            words, pattern = value
            found = pattern.search(facts.text)
            if found:
                why.append(f"内容含「{found.group(0)}」")
                return True
            return False
        case "keywords_all":
            if all(w in facts.text for w in value):
                why.append("内容同时含「" + "」「".join(value) + "」")
                return True
            return False
        case "regex":
            found = value.search(facts.text)
            if found:
                why.append(f"内容匹配 /{value.pattern}/：「{found.group(0)[:40]}」")
                return True
            return False
        case "anonymous":
            if facts.anonymous == value:
                why.append("匿名投诉" if value else "实名投诉")
                return True
            return False
        case "has_phone":
            if facts.has_phone == value:
                why.append("留有联系电话" if value else "未留联系电话")
                return True
            return False
        case "text_len_max":
            length = len(_NOT_WORD.sub("", facts.description))
            if length <= value:
                why.append(f"投诉内容仅 {length} 个字（≤ {value}）")
                return True
            return False
        case "repeat":
            if facts.repeat == value:
                why.append("同一投诉人就同一事项再次投诉" if value else "非重复投诉")
                return True
            return False
        case "phone_history" | "same_subject" | "same_category":
            days, least = value
            counts = {
                "phone_history": facts.phone_counts,
                "same_subject": facts.subject_counts,
                "same_category": facts.category_counts,
            }[key]
            count = counts.get(days, 0)
            if count >= least:
                what = {"phone_history": "同一电话", "same_subject": "同一被投诉对象同类", "same_category": "同一分类"}[
                    key
                ]
                why.append(f"{days} 天内{what}投诉 {count} 件（≥ {least}）")
                return True
            return False
        case "any":
            for alternative in value:
                reasons: list[str] = []
                if all(_holds(k, v, facts, reasons) for k, v in alternative):
                    why.extend(reasons)
                    return True
            return False
    raise AssertionError(key)  # parse_rule admits no other key


def grade(rules: Iterable[Rule], facts: Facts, *, severity: str = "general") -> Grade:
    """Evaluate ``rules`` (already sorted by :func:`parse_rules`) on ``facts``.

    ``severity`` is the agent's own choice: rules raise it, never lower it.
    """
    result = Grade(severity=severity if severity in SEVERITY_LABELS else "general")
    rank = SEVERITIES.index(result.severity)
    decided: set[str] = set()
    flags: dict[str, None] = {}
    for rule in rules:
        why: list[str] = []
        if not all(_holds(key, value, facts, why) for key, value in rule.when):
            continue
        then = rule.then
        if "severity" in then and SEVERITIES.index(then["severity"]) > rank:
            rank = SEVERITIES.index(then["severity"])
            result.severity = then["severity"]
        for key in ("intent", "request_type"):
            if key in then and key not in decided:
                setattr(result, key, then[key])
                decided.add(key)
        if "validity" in then and "validity" not in decided:
            result.validity = then["validity"]
            result.validity_reason = then.get("validity_reason", "")
            decided.add("validity")
        for flag in then.get("flags", ()):
            flags[flag] = None
        result.matched.append(
            {"code": rule.code, "name": rule.name, "version": rule.version, "why": why, "then": dict(then)}
        )
        if rule.stop:
            break
    result.flags = list(flags)
    return result
