"""The ``alerts:`` section of a rule pack: seed 000's rules load, idempotently; bad rules are named."""

import pytest

from kuaixiang.alerts.models import WarningRule
from kuaixiang.rulepacks import RulepackError, rulepack_load, rulepack_load_text


def test_the_telecom_pack_carries_seed_000s_rules_and_loads_idempotently(db):
    first = rulepack_load("telecom")
    assert first["alerts"].created == WarningRule.objects.count() >= 8
    cat5 = WarningRule.objects.get(code="cat5-day")
    assert (cat5.category_level, cat5.window_kind, cat5.level_for(99), cat5.level_for(100)) == (5, "calendar_day", 2, 3)
    roles = {t["role"] for t in cat5.notify_for(3)}
    assert {"leader", "head", "manager"} <= roles
    escalated = WarningRule.objects.get(code="escalated-month")
    assert (escalated.measure, escalated.window_kind, escalated.threshold_for(3), escalated.crisis) == (
        "escalated",
        "calendar_month",
        5,
        True,
    )
    assert rulepack_load("telecom")["alerts"].unchanged == WarningRule.objects.count()


@pytest.mark.parametrize(
    ("rule", "fragment"),
    [
        ("{code: a, window: weekly, levels: [{level: 1, at: 1}]}", "window 无效"),
        ("{code: a, window: calendar_day, levels: [{level: 4, at: 1}]}", "level 应为 1–3"),
        ("{code: a, window: calendar_day, levels: [{level: 1, at: 5}, {level: 2, at: 3}]}", "级别越高"),
        ("{code: a, window: calendar_day, levels: [{level: 1, at: 1, notify: [{role: boss}]}]}", "role 无效"),
        (
            "{code: a, window: calendar_day, condition: poisson, measure: escalated, levels: [{level: 1, at: 1}]}",
            "measure: new",
        ),
        ("{code: a, window: calendar_day, colour: red, levels: [{level: 1, at: 1}]}", "未知字段"),
    ],
)
def test_a_bad_rule_is_refused_with_its_node_and_nothing_is_written(db, rule, fragment):
    with pytest.raises(RulepackError) as error:
        rulepack_load_text(f"alerts:\n  rules:\n    - {rule}\n", source="x.yaml")
    assert fragment in error.value.message and "alerts.rules[0]" in error.value.message
    assert not WarningRule.objects.exists()


def test_the_admin_form_checks_levels_like_the_rule_pack(db):
    from kuaixiang.alerts.admin import WarningRuleForm

    data = {
        "code": "x",
        "name": "x",
        "version": 1,
        "group_by": "all",
        "window_kind": "calendar_day",
        "window_size": 1,
        "measure": "new",
        "condition": "threshold",
        "params": "{}",
        "min_count": 1,
        "levels": '[{"level": 5, "at": 1}]',
    }
    form = WarningRuleForm(data=data)
    assert not form.is_valid() and "level 应为 1–3" in str(form.errors["levels"])
    form = WarningRuleForm(data={**data, "levels": '[{"level": 1, "at": 3, "notify": [{"role": "manager"}]}]'})
    assert form.is_valid(), form.errors


@pytest.mark.parametrize("pack", ["property", "regulator_12315", "factory", "school"])
def test_every_shipped_pack_has_warning_rules_scoped_to_its_own_categories(db, pack):
    result = rulepack_load(pack)
    assert result["alerts"].created >= 5
    rules = WarningRule.objects.all()
    assert all(r.category_id for r in rules) and len({r.category_id for r in rules}) == 1
    assert any(r.crisis and r.measure == "escalated" for r in rules)
