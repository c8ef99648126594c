"""The ``grading`` rule-pack section and the GradingRule model: idempotent by code, versioned, refusals."""

import pytest
from django.core.exceptions import ValidationError

from kuaixiang.rulepacks import RulepackError, pack_names, rulepack_load, rulepack_load_text
from kuaixiang.triage.models import Category, GradingRule

SMALL = """
categories:
  - {code: net, name: 网络质量}
grading:
  - code: safety
    name: 安全隐患
    priority: 10
    when: {keywords: [起火, 爆炸]}
    then: {severity: major, flags: [safety]}
  - code: net-help
    name: 网络求助
    when: {category_in: [net]}
    then: {request_type: help}
"""


def rows():
    return {r.code: (r.name, r.priority, r.when, r.then, r.active, r.version) for r in GradingRule.objects.all()}


@pytest.mark.django_db
class TestGradingSection:
    def test_every_shipped_pack_with_grading_rules_loads(self):
        loaded = 0
        for name in pack_names():
            result = rulepack_load(name)
            if result.get("grading"):
                loaded += 1
                assert result["grading"].created >= 10
        assert loaded >= 1
        assert GradingRule.objects.filter(code="major-safety", then__severity="major").exists()

    def test_loading_twice_changes_nothing_and_keeps_version_1(self):
        first = rulepack_load_text(SMALL)
        before = rows()
        second = rulepack_load_text(SMALL)
        assert (first["grading"].created, second["grading"].unchanged) == (2, 2)
        assert rows() == before and {v[-1] for v in before.values()} == {1}

    def test_a_changed_rule_is_updated_in_place_with_a_new_version(self):
        rulepack_load_text(SMALL)
        pk = GradingRule.objects.get(code="safety").pk
        result = rulepack_load_text(SMALL.replace("[起火, 爆炸]", "[起火, 爆炸, 触电]"))
        assert result["grading"].updated == 1
        rule = GradingRule.objects.get(code="safety")
        assert (rule.pk, rule.version, rule.when["keywords"]) == (pk, 2, ["起火", "爆炸", "触电"])
        assert GradingRule.objects.get(code="net-help").version == 1

    def test_a_rename_alone_does_not_bump_the_version(self):
        rulepack_load_text(SMALL)
        rulepack_load_text(SMALL.replace("安全隐患", "安全风险"))
        assert GradingRule.objects.get(code="safety").version == 1

    @pytest.mark.parametrize(
        ("text", "fragment"),
        [
            ("grading: {}\n", "非空规则列表"),
            ("grading:\n  - {code: a, then: {severity: huge}}\n", "grading[0](a).then.severity"),
            ("grading:\n  - {code: a, when: {regex: '(x'}, then: {severity: major}}\n", "正则表达式有误"),
            ("grading:\n  - {code: a, then: {severity: major}}\n  - {code: a, then: {severity: major}}\n", "重复"),
            ("grading:\n  - {code: a, version: 3, then: {severity: major}}\n", "version"),
            ("grading:\n  - {code: a, active: 1, then: {severity: major}}\n", "active"),
            ("grading:\n  - {code: a, when: {category_in: [nowhere]}, then: {severity: major}}\n", "分类不存在"),
        ],
    )
    def test_a_bad_section_is_refused_and_nothing_is_written(self, text, fragment):
        with pytest.raises(RulepackError) as exc:
            rulepack_load_text("categories:\n  - {code: net, name: 网络质量}\n" + text)
        assert fragment in exc.value.message
        assert not GradingRule.objects.exists() and not Category.objects.exists()


@pytest.mark.django_db
class TestModel:
    def test_clean_refuses_a_rule_the_kernel_cannot_evaluate(self):
        rule = GradingRule(code="r", name="r", when={"keywords": "起火"}, then={"severity": "enormous"})
        with pytest.raises(ValidationError, match="severity"):
            rule.full_clean()

    def test_saving_a_change_of_behaviour_bumps_the_version(self):
        rule = GradingRule.objects.create(code="r", name="r", then={"severity": "major"})
        rule.name = "改名"
        rule.save()
        assert rule.version == 1
        rule.then = {"severity": "urgent"}
        rule.save()
        rule.refresh_from_db()
        assert rule.version == 2
