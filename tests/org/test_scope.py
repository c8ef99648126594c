"""Data scope: what each persona sees in lists, detail, search and queue counts."""

import pytest

from kuaixiang.complaints.selectors import (
    ComplaintFilters,
    complaint_detail,
    complaints_page,
    complaints_visible,
    queue_counts,
)
from kuaixiang.complaints.services import complaint_transition
from kuaixiang.errors import NotFound
from kuaixiang.org.scope import scope_for
from tests.lifecycle_paths import extra_staff
from tests.personas import register


@pytest.fixture
def world(org):
    """Complaints in both branches and at HQ, some dispatched to departments."""
    a_new = register(org.agent, description="甲：刚登记", complainant_phone="13900000001")
    a_network = register(org.agent, description="甲：派到网络部", complainant_phone="13900000002")
    complaint_transition(complaint_id=a_network.pk, action="accept", actor=org.agent)
    complaint_transition(
        complaint_id=a_network.pk, action="dispatch", actor=org.agent, data={"department_id": org.network.pk}
    )
    a_business = register(org.lead, description="甲：派到业务支撑部", complainant_phone="13900000003")
    complaint_transition(complaint_id=a_business.pk, action="accept", actor=org.lead)
    complaint_transition(
        complaint_id=a_business.pk, action="dispatch", actor=org.lead, data={"department_id": org.business.pk}
    )
    b_new = register(org.outside_agent, description="乙：刚登记", complainant_phone="13900000004")
    b_network = register(org.outside_agent, description="乙：派到网络部", complainant_phone="13900000005")
    complaint_transition(complaint_id=b_network.pk, action="accept", actor=org.outside_agent)
    complaint_transition(
        complaint_id=b_network.pk,
        action="dispatch",
        actor=org.outside_agent,
        data={"department_id": org.other_network.pk},
    )
    hq_new = register(org.hq_manager, description="总部：刚登记", complainant_phone="13900000006")
    return {
        "a_new": a_new,
        "a_network": a_network,
        "a_business": a_business,
        "b_new": b_new,
        "b_network": b_network,
        "hq_new": hq_new,
    }


def visible(user, world) -> set[str]:
    ids = set(complaints_visible(user).values_list("id", flat=True))
    return {name for name, c in world.items() if c.pk in ids}


@pytest.mark.parametrize(
    ("persona", "sees"),
    [
        # HQ roles with a whole-unit scope see everything.
        ("hq_manager", {"a_new", "a_network", "a_business", "b_new", "b_network", "hq_new"}),
        ("admin", {"a_new", "a_network", "a_business", "b_new", "b_network", "hq_new"}),
        ("leader", {"a_new", "a_network", "a_business", "b_new", "b_network", "hq_new"}),
        ("pr", {"a_new", "a_network", "a_business", "b_new", "b_network", "hq_new"}),
        ("legal", {"a_new", "a_network", "a_business", "b_new", "b_network", "hq_new"}),
        # A branch manager sees the branch.
        ("manager", {"a_new", "a_network", "a_business"}),
        # The centre's agents and leads see what the centre registered.
        ("agent", {"a_new", "a_network", "a_business"}),
        ("lead", {"a_new", "a_network", "a_business"}),
        # A department sees what is dispatched to it.
        ("handler", {"a_network"}),
        ("head", {"a_network"}),
        ("biz_handler", {"a_business"}),
        # Branch B sees only branch B.
        ("outsider", {"b_network"}),
        ("outside_agent", {"b_new", "b_network"}),
    ],
)
def test_each_persona_sees_exactly_their_scope(org, world, persona, sees):
    assert visible(org.persona(persona), world) == sees


class TestTheOutsiderSeesNothingOfBranchA:
    def test_not_in_the_list(self, org, world):
        page = complaints_page(org.outsider, ComplaintFilters(), limit=200)
        assert {row["id"] for row in page.items} == {world["b_network"].pk}

    @pytest.mark.parametrize("name", ["a_new", "a_network", "a_business", "hq_new"])
    def test_not_in_detail(self, org, world, name):
        with pytest.raises(NotFound):
            complaint_detail(org.outsider, world[name].pk)

    @pytest.mark.parametrize(
        "query",
        ["甲", "派到网络部", "13900000002", "139-0000-0002"],
    )
    def test_not_in_search(self, org, world, query):
        page = complaints_page(org.outsider, ComplaintFilters(q=query), limit=200)
        assert world["a_network"].pk not in {row["id"] for row in page.items}

    def test_not_by_number(self, org, world):
        page = complaints_page(org.outsider, ComplaintFilters(q=world["a_network"].number), limit=200)
        assert page.items == []

    def test_not_in_queue_counts(self, org, world):
        counts = queue_counts(org.outsider)
        assert counts.get("dispatched") == 1
        assert counts.get("registered") is None
        assert counts["open"] == 1

    def test_not_by_acting_on_it(self, org, world):
        with pytest.raises(NotFound):
            complaint_transition(complaint_id=world["a_new"].pk, action="accept", actor=org.outside_agent)


def test_search_by_number_finds_it_for_someone_in_scope(org, world):
    page = complaints_page(org.agent, ComplaintFilters(q=world["a_network"].number.lower()), limit=200)
    assert [row["id"] for row in page.items] == [world["a_network"].pk]


def test_queue_counts_count_only_the_scope(org, world):
    assert queue_counts(org.hq_manager)["open"] == 6
    assert queue_counts(org.manager)["open"] == 3
    counts = queue_counts(org.agent)
    assert (counts["registered"], counts["dispatched"], counts["open"], counts["mine"]) == (1, 2, 3, 0)


def test_a_taken_complaint_counts_as_mine(org, world):
    complaint_transition(complaint_id=world["a_network"].pk, action="take", actor=org.handler)
    assert queue_counts(org.handler)["mine"] == 1
    assert queue_counts(org.head)["mine"] == 0


def test_whoever_registered_a_complaint_keeps_seeing_it(org, world):
    # The business handler registered one himself: it is his even though his department does not handle it.
    own = register(org.biz_handler, description="业务支撑部代登记")
    assert own.pk in set(complaints_visible(org.biz_handler).values_list("id", flat=True))
    assert own.pk not in set(complaints_visible(org.handler).values_list("id", flat=True))


def test_a_team_below_a_department_is_inside_the_department_scope(org, world):
    team = org.network.children.create(name="甲网络部一班", code="a-network-1", level="team")
    complaint_transition(
        complaint_id=world["a_business"].pk,
        action="transfer",
        actor=org.lead,
        data={"department_id": team.pk, "reason": "网络问题"},
    )
    assert "a_business" in visible(org.head, world)
    team_member = extra_staff("team_member", team, "handler")
    assert visible(team_member, world) == {"a_business"}


def test_a_user_without_a_staff_record_sees_nothing_and_a_superuser_everything(db, world, django_user_model):
    nobody = django_user_model.objects.create_user("nobody", password="x")
    root = django_user_model.objects.create_superuser("root", password="x")
    assert visible(nobody, world) == set()
    assert visible(root, world) == set(world)
    assert scope_for(nobody).everything is False
