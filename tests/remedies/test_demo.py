"""The demo data set has remedies (executed, approved, pending in a chain) and one 8D report, and resets cleanly."""

import pytest
from django.core.management import call_command

from kuaixiang.remedies.models import ApprovalStep, EightD, Remedy


@pytest.mark.django_db
def test_seed_demo_adds_remedies_and_an_8d_and_reset_removes_them(monkeypatch, capsys):
    monkeypatch.setenv("DEMO_PASSWORD", "demo-test-pass")
    call_command("seed_demo", "--complaints", "60")
    states = sorted(Remedy.objects.values_list("state", flat=True))
    assert states == ["approved", "executed", "pending", "pending"]
    chain = ApprovalStep.objects.filter(remedy__amount=8000).order_by("order")
    assert [s.state for s in chain] == ["approved", "active", "waiting"]
    eightd = EightD.objects.get()
    assert eightd.complaints.count() == 2 and eightd.actions.count() == 2
    call_command("seed_demo", "--reset", "--complaints", "0")
    assert not Remedy.objects.exists() and not EightD.objects.exists()
