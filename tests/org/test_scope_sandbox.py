"""Data scope and the sandbox organisation: replayed and drill complaints stay out of "everything"."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from kuaixiang.alerts.sandbox import sandbox_agent, sandbox_build
from kuaixiang.complaints.selectors import (
    ComplaintFilters,
    complaint_detail,
    complaints_page,
    complaints_visible,
    queue_counts,
)
from kuaixiang.errors import NotFound
from kuaixiang.org.scope import scope_for
from tests.api.conftest import ApiClient, issue_token
from tests.personas import PASSWORD, register


def fresh(user):
    """The user as a new request would load it (no cached scope)."""
    return get_user_model().objects.get(pk=user.pk)


@pytest.fixture
def complaints(org):
    real = register(org.agent, description="真实：手机没有信号", complainant_phone="13900000011")
    drill = register(sandbox_agent(), description="沙箱：演练投诉 手机没有信号", complainant_phone="13900000012")
    return {"real": real, "drill": drill}


def visible_ids(user) -> set[int]:
    return set(complaints_visible(user).values_list("id", flat=True))


class TestAnHqManagerDoesNotSeeTheSandbox:
    def test_not_in_the_list(self, org, complaints):
        page = complaints_page(org.hq_manager, ComplaintFilters(), limit=200)
        assert {row["id"] for row in page.items} == {complaints["real"].pk}

    @pytest.mark.parametrize("query", ["沙箱", "手机没有信号", "13900000012"])
    def test_not_in_search(self, org, complaints, query):
        page = complaints_page(org.hq_manager, ComplaintFilters(q=query), limit=200)
        assert complaints["drill"].pk not in {row["id"] for row in page.items}

    def test_not_by_number(self, org, complaints):
        page = complaints_page(org.hq_manager, ComplaintFilters(q=complaints["drill"].number), limit=200)
        assert page.items == []

    def test_not_in_detail(self, org, complaints):
        with pytest.raises(NotFound):
            complaint_detail(org.hq_manager, complaints["drill"].pk)

    def test_not_in_queue_counts(self, org, complaints):
        assert queue_counts(org.hq_manager)["open"] == 1

    @pytest.mark.parametrize("persona", ["admin", "leader", "pr", "legal"])
    def test_nor_do_the_other_hq_roles(self, org, complaints, persona):
        assert visible_ids(org.persona(persona)) == {complaints["real"].pk}

    def test_nor_a_superuser_without_a_staff_record(self, db, complaints):
        root = get_user_model().objects.create_superuser("root", password="x")
        assert visible_ids(root) == {complaints["real"].pk}

    def test_not_in_the_api_list_or_detail(self, org, complaints):
        api = ApiClient(issue_token(org.hq_manager.username))
        response = api.get("/complaints", {"limit": 100})
        assert response.status_code == 200, response.content
        assert [item["id"] for item in response.json()["items"]] == [complaints["real"].pk]
        assert api.get(f"/complaints/{complaints['drill'].pk}").status_code == 404
        assert api.get(f"/complaints/{complaints['real'].pk}").status_code == 200

    def test_not_in_the_web_detail(self, org, complaints):
        client = Client()
        assert client.login(username=org.hq_manager.username, password=PASSWORD)
        assert client.get(f"/complaints/{complaints['drill'].pk}/").status_code == 404
        assert client.get(f"/complaints/{complaints['real'].pk}/").status_code == 200


class TestTheSandboxStaffSeeTheirOwn:
    def test_the_sandbox_agent_sees_the_drill_complaint(self, org, complaints):
        agent = fresh(sandbox_agent())
        assert visible_ids(agent) == {complaints["drill"].pk}
        assert complaint_detail(agent, complaints["drill"].pk).pk == complaints["drill"].pk
        page = complaints_page(agent, ComplaintFilters(q="沙箱"), limit=200)
        assert [row["id"] for row in page.items] == [complaints["drill"].pk]

    def test_the_sandbox_manager_sees_the_sandbox_and_nothing_real(self, org, complaints):
        manager = get_user_model().objects.get(username="sandbox-centre-manager")
        assert scope_for(manager).everything is False
        assert visible_ids(manager) == {complaints["drill"].pk}


def test_a_branch_scope_is_unchanged(org, complaints):
    assert visible_ids(org.manager) == {complaints["real"].pk}
    assert scope_for(org.manager).hidden_path == ""


def test_the_sandbox_is_looked_up_for_every_new_scope(org):
    real = register(org.agent, description="真实投诉")
    assert scope_for(fresh(org.hq_manager)).hidden_path == ""
    root = sandbox_build()
    assert scope_for(fresh(org.hq_manager)).hidden_path == root.path
    drill = register(sandbox_agent(), description="沙箱投诉")
    assert visible_ids(fresh(org.hq_manager)) == {real.pk}
    assert drill.pk in visible_ids(fresh(sandbox_agent()))
