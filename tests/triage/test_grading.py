"""The grading kernel: rule parsing and refusals, evaluation, reasons, needs (no Django, no database)."""

from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from kuaixiang.triage.grading import (
    SEVERITIES,
    Facts,
    GradingRuleError,
    Needs,
    grade,
    needs,
    normalise_text,
    parse_rule,
    parse_rules,
)

TELECOM = Path(__file__).resolve().parents[2] / "rulepacks" / "telecom" / "grading.yaml"
TELECOM_RULES = parse_rules(yaml.safe_load(TELECOM.read_text(encoding="utf-8"))["grading"])


def rules(*raws):
    return parse_rules(list(raws))


def facts(text="", **kw):
    kw.setdefault("description", text)
    return Facts(text=normalise_text(text), **kw)


class TestParse:
    def test_a_minimal_rule_gets_defaults(self):
        rule = parse_rule({"code": "r1", "then": {"severity": "major"}})
        assert (rule.name, rule.priority, rule.when, rule.stop, rule.version) == ("r1", 100, (), False, 1)

    @pytest.mark.parametrize(
        ("raw", "fragment"),
        [
            ("not a mapping", "规则应为映射"),
            ({"code": "bad code", "then": {"severity": "major"}}, "code"),
            ({"code": "r", "then": {}}, "then"),
            ({"code": "r", "then": {"severity": "huge"}}, "severity"),
            ({"code": "r", "then": {"flags": ["press"]}}, "flags"),
            ({"code": "r", "then": {"validity": "invalid"}}, "validity_reason"),
            ({"code": "r", "then": {"validity_reason": "anonymous"}}, "validity_reason"),
            ({"code": "r", "when": {"colour": "red"}, "then": {"severity": "major"}}, "未知条件 colour"),
            ({"code": "r", "when": {"regex": "(unclosed"}, "then": {"severity": "major"}}, "正则表达式有误"),
            ({"code": "r", "when": {"keywords": []}, "then": {"severity": "major"}}, "非空文本列表"),
            ({"code": "r", "when": {"amount_min": "lots"}, "then": {"severity": "major"}}, "金额"),
            ({"code": "r", "when": {"amount_min": -1}, "then": {"severity": "major"}}, "非负"),
            ({"code": "r", "when": {"same_subject": {"days": 0, "min": 10}}, "then": {"severity": "major"}}, "days"),
            ({"code": "r", "when": {"phone_history": {"days": 30}}, "then": {"severity": "major"}}, "days"),
            ({"code": "r", "when": {"anonymous": "yes"}, "then": {"severity": "major"}}, "true 或 false"),
            ({"code": "r", "when": {"any": []}, "then": {"severity": "major"}}, "条件列表"),
            ({"code": "r", "when": {"any": [{"nope": 1}]}, "then": {"severity": "major"}}, "any[0]"),
            ({"code": "r", "priority": "high", "then": {"severity": "major"}}, "priority"),
            ({"code": "r", "colour": 1, "then": {"severity": "major"}}, "未知字段"),
        ],
    )
    def test_bad_rules_are_refused_naming_the_node(self, raw, fragment):
        with pytest.raises(GradingRuleError) as exc:
            parse_rule(raw)
        assert fragment in str(exc.value)

    def test_duplicate_codes_are_refused(self):
        with pytest.raises(GradingRuleError, match="重复"):
            rules({"code": "a", "then": {"severity": "major"}}, {"code": "a", "then": {"severity": "urgent"}})

    def test_rules_sort_by_priority_then_code(self):
        parsed = rules(
            {"code": "b", "priority": 5, "then": {"severity": "major"}},
            {"code": "a", "priority": 5, "then": {"severity": "major"}},
            {"code": "c", "priority": 1, "then": {"severity": "major"}},
        )
        assert [r.code for r in parsed] == ["c", "a", "b"]


class TestGrade:
    def test_no_rules_keeps_the_defaults_and_the_agents_severity(self):
        result = grade([], facts("随便"), severity="important")
        assert result.as_dict() == {
            "severity": "important",
            "intent": "grievance",
            "request_type": "complaint",
            "validity": "valid",
            "validity_reason": "",
            "flags": [],
            "matched": [],
        }

    def test_keywords_raise_severity_add_flags_and_say_why(self):
        rs = rules(
            {
                "code": "safety",
                "name": "安全",
                "when": {"keywords": ["起火", "爆炸"]},
                "then": {"severity": "major", "flags": ["safety"]},
            }
        )
        result = grade(rs, facts("家里的光猫起火了"))
        assert (result.severity, result.flags) == ("major", ["safety"])
        assert result.matched == [
            {
                "code": "safety",
                "name": "安全",
                "version": 1,
                "why": ["内容含「起火」"],
                "then": {"severity": "major", "flags": ["safety"]},
            }
        ]

    def test_keywords_match_case_and_width_insensitively(self):
        rs = rules({"code": "k", "when": {"keywords": ["SB客服"]}, "then": {"intent": "malicious"}})
        assert grade(rs, facts("你们这些ｓｂ客服")).intent == "malicious"

    def test_severity_never_goes_down_and_the_highest_wins(self):
        rs = rules(
            {"code": "a", "priority": 1, "then": {"severity": "important"}},
            {"code": "b", "priority": 2, "then": {"severity": "major"}},
            {"code": "c", "priority": 3, "then": {"severity": "general"}},
        )
        assert grade(rs, facts("x")).severity == "major"
        assert grade(rs, facts("x"), severity="urgent").severity == "urgent"

    def test_first_rule_decides_intent_type_and_validity_flags_add_up(self):
        rs = rules(
            {"code": "a", "priority": 1, "then": {"intent": "suggestion", "flags": ["media"]}},
            {
                "code": "b",
                "priority": 2,
                "then": {"intent": "malicious", "request_type": "report", "flags": ["legal", "media"]},
            },
            {"code": "c", "priority": 3, "then": {"validity": "invalid", "validity_reason": "anonymous"}},
            {"code": "d", "priority": 4, "then": {"validity": "invalid", "validity_reason": "too_vague"}},
        )
        result = grade(rs, facts("x"))
        assert (result.intent, result.request_type) == ("suggestion", "report")
        assert (result.validity, result.validity_reason) == ("invalid", "anonymous")
        assert result.flags == ["media", "legal"]

    def test_stop_skips_later_rules(self):
        rs = rules(
            {"code": "a", "priority": 1, "then": {"severity": "important"}, "stop": True},
            {"code": "b", "priority": 2, "then": {"severity": "major"}},
        )
        result = grade(rs, facts("x"))
        assert result.severity == "important" and [m["code"] for m in result.matched] == ["a"]

    def test_every_condition_of_a_rule_must_hold(self):
        rs = rules(
            {
                "code": "r",
                "when": {"anonymous": True, "has_phone": False},
                "then": {"validity": "invalid", "validity_reason": "no_contact"},
            }
        )
        assert grade(rs, facts("x", anonymous=True, has_phone=False)).validity == "invalid"
        assert grade(rs, facts("x", anonymous=True, has_phone=True)).validity == "valid"

    def test_amount_channel_and_category_conditions(self):
        rs = rules(
            {"code": "amount", "when": {"amount_min": 100000}, "then": {"severity": "major"}},
            {"code": "media", "when": {"channel_in": ["media", "weibo"]}, "then": {"flags": ["media"]}},
            {"code": "net", "when": {"category_in": ["net"]}, "then": {"request_type": "help"}},
        )
        result = grade(
            rs, facts("x", amount=Decimal("100000.00"), channel="weibo", category_codes=frozenset({"net", "net-mob"}))
        )
        assert (result.severity, result.flags, result.request_type) == ("major", ["media"], "help")
        assert result.matched[0]["why"] == ["索赔金额 100,000.00 ≥ 100,000.00 元"]
        below = grade(rs, facts("x", amount=Decimal("99999.99"), channel="phone", category_codes=frozenset({"bill"})))
        assert below.matched == []

    def test_keywords_all_regex_and_text_length(self):
        rs = rules(
            {"code": "all", "when": {"keywords_all": ["宽带", "断网"]}, "then": {"flags": ["group"]}},
            {"code": "re", "when": {"regex": r"^(请问|咨询)"}, "then": {"request_type": "consultation"}},
            {
                "code": "short",
                "when": {"text_len_max": 5},
                "then": {"validity": "invalid", "validity_reason": "too_vague"},
            },
        )
        assert grade(rs, facts("请问宽带为什么断网")).as_dict()["flags"] == ["group"]
        assert grade(rs, facts("请问宽带为什么断网")).request_type == "consultation"
        assert grade(rs, facts("宽带很慢")).flags == []
        assert grade(rs, facts("太差！！！")).validity == "invalid"
        assert grade(rs, facts("网速太慢了啊")).validity == "valid"

    def test_counts_and_repeat(self):
        rs = rules(
            {
                "code": "group",
                "when": {"same_subject": {"days": 30, "min": 10}},
                "then": {"severity": "major", "flags": ["group"]},
            },
            {"code": "repeat", "when": {"repeat": True}, "then": {"severity": "important"}},
            {"code": "caller", "when": {"phone_history": {"days": 7, "min": 3}}, "then": {"intent": "malicious"}},
            {"code": "surge", "when": {"same_category": {"days": 1, "min": 50}}, "then": {"flags": ["group"]}},
        )
        assert needs(rs) == Needs(frozenset({7}), frozenset({30}), frozenset({1}), True)
        result = grade(
            rs, facts("x", subject_counts={30: 10}, repeat=True, phone_counts={7: 2}, category_counts={1: 49})
        )
        assert result.severity == "major" and [m["code"] for m in result.matched] == ["group", "repeat"]
        assert result.matched[0]["why"] == ["30 天内同一被投诉对象同类投诉 10 件（≥ 10）"]
        assert grade(rs, facts("x", phone_counts={7: 3})).intent == "malicious"

    def test_any_holds_when_one_alternative_holds_and_reports_its_reasons(self):
        rs = rules(
            {
                "code": "media",
                "when": {"any": [{"channel_in": ["media"]}, {"keywords": ["记者"]}]},
                "then": {"flags": ["media"]},
            }
        )
        assert grade(rs, facts("我要找记者", channel="phone")).matched[0]["why"] == ["内容含「记者」"]
        assert grade(rs, facts("无", channel="media")).matched[0]["why"] == ["渠道为 media"]
        assert grade(rs, facts("无", channel="phone")).matched == []
        assert needs(
            rules(
                {
                    "code": "n",
                    "when": {"any": [{"phone_history": {"days": 3, "min": 2}}]},
                    "then": {"intent": "malicious"},
                }
            )
        ).phone_days == {3}


@pytest.fixture
def telecom():
    return TELECOM_RULES


class TestTelecomPack:
    @pytest.mark.parametrize(
        ("text", "kw", "expected"),
        [
            ("家里的路由器冒烟起火了", {}, {"severity": "major", "flags": ["safety"]}),
            ("多扣了话费", {"amount": Decimal("100000")}, {"severity": "major"}),
            ("多扣了话费", {"amount": Decimal("20000")}, {"severity": "important"}),
            ("再不处理我就找电视台曝光", {}, {"severity": "major", "flags": ["media"]}),
            ("我已经向工信部投诉了", {}, {"severity": "major", "flags": ["government"]}),
            ("我要去法院起诉你们", {}, {"severity": "major", "flags": ["legal"]}),
            ("转来的工单", {"channel": "government"}, {"severity": "major", "flags": ["government"]}),
            ("小区宽带断网", {"subject_counts": {30: 10}}, {"severity": "major", "flags": ["group"]}),
            ("小区宽带断网", {"subject_counts": {30: 9}}, {"severity": "general", "flags": []}),
            ("宽带又断网了", {"repeat": True}, {"severity": "important"}),
            ("你们这帮傻逼客服", {}, {"intent": "malicious"}),
            ("建议你们增加夜间客服", {}, {"intent": "suggestion", "request_type": "suggestion"}),
            ("请问怎么办理携号转网", {}, {"request_type": "consultation"}),
            ("我要举报诈骗电话", {}, {"request_type": "report"}),
            (
                "信号差",
                {"anonymous": True, "has_phone": False},
                {"validity": "invalid", "validity_reason": "no_contact"},
            ),
            ("手机一直没有信号", {"anonymous": True}, {"validity": "invalid", "validity_reason": "anonymous"}),
            ("太差", {}, {"validity": "invalid", "validity_reason": "too_vague"}),
            ("自来水公司停水三天", {}, {"validity": "invalid", "validity_reason": "out_of_scope"}),
            ("手机没有信号，打电话断断续续", {}, {"severity": "general", "validity": "valid", "flags": []}),
        ],
    )
    def test_rules_md_section_3_criteria(self, telecom, text, kw, expected):
        result = grade(telecom, facts(text, **kw)).as_dict()
        assert {k: result[k] for k in expected} == expected
        assert all(m["why"] for m in result["matched"])


@given(st.text(max_size=120), st.sampled_from(SEVERITIES), st.booleans(), st.booleans())
def test_grading_never_lowers_severity_and_returns_known_values(text, severity, anonymous, repeat):
    rs = TELECOM_RULES
    result = grade(rs, facts(text, anonymous=anonymous, has_phone=not anonymous, repeat=repeat), severity=severity)
    assert SEVERITIES.index(result.severity) >= SEVERITIES.index(severity)
    assert result.intent in {"suggestion", "grievance", "malicious"}
    assert (result.validity == "invalid") == bool(result.validity_reason)
    assert len(set(result.flags)) == len(result.flags)
    if repeat:
        assert SEVERITIES.index(result.severity) >= SEVERITIES.index("important")


@pytest.mark.parametrize(
    ("pack", "root"), [("factory", "fac"), ("property", "prop"), ("regulator_12315", "r12315"), ("school", "sch")]
)
def test_other_packs_grade_only_complaints_in_their_own_category_tree(pack, root):
    path = TELECOM.parent.parent / pack / "grading.yaml"
    rules = parse_rules(yaml.safe_load(path.read_text(encoding="utf-8"))["grading"])
    text = "起火了，我要找记者曝光并起诉"
    inside = grade(rules, facts(text, category_codes=frozenset({root})))
    outside = grade(rules, facts(text, category_codes=frozenset({"net"})))
    assert inside.severity == "major" and {"safety", "media", "legal"} <= set(inside.flags)
    assert outside.matched == [] and all(r.code.startswith(pack.replace("_", "-") + ".") for r in rules)
