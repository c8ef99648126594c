"""Fixtures: the telecom authority matrix loaded from the shipped rule pack, complaints to remedy."""

from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings

from kuaixiang.remedies import services
from kuaixiang.rulepacks import rulepack_load
from tests.personas import register

AUTHORITY_YAML = Path(settings.BASE_DIR) / "rulepacks" / "telecom" / "authority.yaml"


@pytest.fixture
def matrix(org):
    """The organisation plus the telecom authority section (agent 100 / lead 500 / manager 5000 / leader)."""
    rulepack_load(AUTHORITY_YAML)
    return org


@pytest.fixture
def complaint(matrix):
    return register(matrix.agent)


def request(actor, complaint, amount, *, type="compensation", **extra):
    data = {
        "type": type,
        "amount": str(amount),
        "responsibility": "company_fault",
        "justification": "网络故障三天，按规定补偿",
        **extra,
    }
    return services.remedy_request(complaint_id=complaint.pk, actor=actor, data=data)


def chain_roles(remedy):
    return [s.role for s in remedy.steps.filter(round=remedy.round).order_by("order")]


D = Decimal
