"""The ``authority`` rule-pack section: checked before writing, idempotent, every change logged."""

from decimal import Decimal

import pytest
from django.contrib.admin.sites import site
from django.test import Client, RequestFactory

from kuaixiang.remedies.matrix import limits_for
from kuaixiang.remedies.models import AuthorityChange, AuthorityRule, AuthoritySettings, ChainTemplate
from kuaixiang.rulepacks import RulepackError, rulepack_load, rulepack_load_text
from tests.remedies.conftest import AUTHORITY_YAML


def test_the_telecom_pack_loads_the_demo_matrix(matrix):
    limits = limits_for("compensation", matrix.centre)
    assert {role: limit.per_complaint for role, limit in limits.items()} == {
        "agent": Decimal(100),
        "lead": Decimal(500),
        "manager": Decimal(5000),
        "leader": None,
    }
    assert limits["agent"].per_month == Decimal(2000)
    template = ChainTemplate.objects.get(code="over-5000")
    assert [(s.role, s.place) for s in template.steps.all()] == [
        ("manager", "unit"),
        ("head", "responsible"),
        ("leader", "unit"),
    ]
    settings = AuthoritySettings.objects.get()
    assert (settings.capa_temporary_days, settings.capa_permanent_days) == (1, 7)


def test_loading_twice_changes_nothing_and_logs_nothing_new(matrix):
    changes = AuthorityChange.objects.count()
    assert changes == AuthorityRule.objects.count() + 1 + 3 + 1  # rules, template, its steps, settings
    result = rulepack_load(AUTHORITY_YAML)
    assert result["authority"].created == 0 and result["authority"].updated == 0
    assert AuthorityChange.objects.count() == changes


def test_a_changed_limit_is_updated_with_before_and_after(matrix):
    rulepack_load_text(
        "authority:\n  limits:\n    - {code: agent-money, role: agent, types: [compensation], per_complaint: 150}\n",
        source="test.yaml",
    )
    change = AuthorityChange.objects.filter(action="update").latest("id")
    assert change.before["per_complaint"] == "100.00" and change.after["per_complaint"] == "150.00"
    assert change.source == "rulepack:test.yaml" and change.actor is None


def test_a_department_rule_beats_the_general_one_below_it(matrix):
    rulepack_load_text(
        "authority:\n  limits:\n"
        "    - {code: a-agents, role: agent, types: [compensation], department: a, per_complaint: 300}\n",
        source="t",
    )
    assert limits_for("compensation", matrix.centre)["agent"].per_complaint == Decimal(300)
    assert limits_for("compensation", matrix.other_centre)["agent"].per_complaint == Decimal(100)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("authority: [1]", "authority"),
        ("authority:\n  limits:\n    - {code: x, role: boss, types: [refund]}", "authority.limits[0]"),
        ("authority:\n  limits:\n    - {code: x, role: agent, types: [cash]}", "authority.limits[0]"),
        ("authority:\n  limits:\n    - {code: x, role: agent, types: [refund], per_complaint: -1}", "per_complaint"),
        ("authority:\n  limits:\n    - {code: x, role: agent, types: [refund], per_month: abc}", "per_month"),
        ("authority:\n  chains:\n    - {code: c, name: n, above: 1, steps: []}", "authority.chains[0]"),
        ("authority:\n  chains:\n    - {code: c, name: n, above: 1, steps: [{role: x}]}", "steps[0]"),
        ("authority:\n  approval: {unit: fortnights}", "authority.approval.unit"),
        ("authority:\n  capa: {temporary_days: 0}", "authority.capa.temporary_days"),
        ("authority:\n  limits:\n    - {code: x, role: agent, types: [refund], department: nowhere}", "limits[0]"),
    ],
)
def test_a_malformed_section_names_the_node_and_writes_nothing(matrix, text, where):
    before = (AuthorityRule.objects.count(), AuthorityChange.objects.count())
    with pytest.raises(RulepackError) as exc:
        rulepack_load_text(text, source="bad.yaml")
    assert where in exc.value.message and "bad.yaml" in exc.value.message
    assert (AuthorityRule.objects.count(), AuthorityChange.objects.count()) == before


def test_admin_edits_are_logged_with_the_user(matrix):
    from django.contrib.auth import get_user_model

    root = get_user_model().objects.create_superuser("root", "root@example.cn", "pw-123456")
    client = Client()
    client.force_login(root)
    rule = AuthorityRule.objects.get(code="agent-money-compensation")
    page = client.get(f"/admin/remedies/authorityrule/{rule.pk}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {k: ("" if v is None else v) for k, v in form.initial.items()}
    data.update(per_complaint="120", department="")
    data = {k: v for k, v in data.items() if v is not False}
    response = client.post(f"/admin/remedies/authorityrule/{rule.pk}/change/", data)
    assert response.status_code == 302, response.content[:500]
    change = AuthorityChange.objects.latest("id")
    assert (change.actor, change.action, change.before["per_complaint"], change.after["per_complaint"]) == (
        root,
        "update",
        "100.00",
        "120.00",
    )
    admin = site._registry[AuthorityRule]
    delete_request = RequestFactory().post("/")
    delete_request.user = root
    admin.delete_model(delete_request, rule)
    deleted = AuthorityChange.objects.latest("id")
    assert deleted.action == "delete" and deleted.after is None and deleted.before["code"] == rule.code
    log_admin = site._registry[AuthorityChange]
    assert not log_admin.has_change_permission(None) and not log_admin.has_delete_permission(None)
