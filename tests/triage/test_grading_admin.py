"""The grading rules in the admin: listed, added with a check by the kernel, versioned on change."""

import json

import pytest
from django.contrib.auth import get_user_model

from kuaixiang.triage.models import GradingRule


@pytest.fixture
def admin_client(client, db):
    client.force_login(get_user_model().objects.create_superuser("root", password="x-pass-123"))
    return client


def form(**overrides):
    data = {
        "code": "media",
        "name": "媒体",
        "description": "",
        "priority": "10",
        "when": json.dumps({"keywords": ["记者"]}),
        "then": json.dumps({"severity": "major", "flags": ["media"]}),
        "active": "on",
    }
    return {**data, **overrides}


def test_rules_are_listed_added_and_versioned(admin_client):
    assert admin_client.get("/admin/triage/gradingrule/").status_code == 200
    assert admin_client.post("/admin/triage/gradingrule/add/", form()).status_code == 302
    rule = GradingRule.objects.get(code="media")
    assert (rule.version, rule.then["severity"]) == (1, "major")
    page = admin_client.get("/admin/triage/gradingrule/")
    assert "severity=major" in page.content.decode()
    changed = form(then=json.dumps({"severity": "urgent"}))
    assert admin_client.post(f"/admin/triage/gradingrule/{rule.pk}/change/", changed).status_code == 302
    rule.refresh_from_db()
    assert (rule.version, rule.then) == (2, {"severity": "urgent"})


def test_a_rule_the_kernel_cannot_evaluate_is_refused_with_the_reason(admin_client):
    response = admin_client.post("/admin/triage/gradingrule/add/", form(when=json.dumps({"regex": "(x"})))
    assert response.status_code == 200 and "正则表达式有误" in response.content.decode()
    assert not GradingRule.objects.exists()
