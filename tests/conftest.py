import pytest

from tests.personas import build_org


@pytest.fixture
def org(db):
    return build_org()
