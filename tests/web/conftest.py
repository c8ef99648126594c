import pytest

from tests.personas import register


@pytest.fixture
def login(client):
    """Log the test client in as a persona and return it."""

    def _login(user):
        client.force_login(user)
        return client

    return _login


@pytest.fixture
def complaint(org):
    return register(org.agent, complainant_name="张先生", subject="营业厅", extra={"product": "5G套餐"})
