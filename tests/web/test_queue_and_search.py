from datetime import timedelta

import pytest

from kuaixiang import clock
from kuaixiang.complaints.models import Complaint
from tests.personas import register
from tests.web.support import walk


def numbers(response) -> list[str]:
    return [row["number"] for row in response.context["rows"]]


@pytest.fixture
def mix(org):
    """A few complaints of the first branch in different shapes."""
    now = clock.now()
    return {
        "fresh": register(org.agent, description="宽带断网", channel="web", received_at=now - timedelta(days=1)),
        "urgent": register(org.agent, description="基站停电", severity="urgent", received_at=now - timedelta(days=3)),
        "leaf": register(org.agent, description="信号弱", category_id=org.leaf.pk, received_at=now - timedelta(days=5)),
        "late": walk(register(org.agent, description="超时工单", received_at=now - timedelta(days=9)), org, "dispatch"),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["fresh", "urgent", "leaf", "late"]),
        ("status=dispatched", ["late"]),
        ("status=open", ["fresh", "urgent", "leaf", "late"]),
        ("channel=web", ["fresh"]),
        ("severity=urgent", ["urgent"]),
        ("overdue=1", ["late"]),
        ("overdue=0", ["fresh", "urgent", "leaf"]),
        ("q=基站", ["urgent"]),
        ("status=archived", []),
    ],
)
def test_queue_filters(login, org, mix, query, expected):
    Complaint.objects.filter(pk=mix["late"].pk).update(due_at=clock.now() - timedelta(hours=2))
    response = login(org.lead).get(f"/queue/?{query}")
    assert response.status_code == 200
    assert numbers(response) == [mix[name].number for name in expected]


def test_queue_filters_by_category_subtree_department_and_received_range(login, org, mix):
    client = login(org.lead)
    assert numbers(client.get(f"/queue/?category={org.category.pk}")) == [mix["leaf"].number]
    assert numbers(client.get(f"/queue/?department={org.network.pk}")) == [mix["late"].number]
    local = (clock.now() - timedelta(days=4)).astimezone(clock.SHANGHAI).date().isoformat()
    assert numbers(client.get(f"/queue/?received_from={local}")) == [mix["fresh"].number, mix["urgent"].number]
    assert numbers(client.get(f"/queue/?received_to={local}")) == [mix["leaf"].number, mix["late"].number]


def test_an_invalid_filter_is_flagged_and_ignored(login, org, mix):
    response = login(org.lead).get("/queue/?received_from=yesterday&severity=urgent")
    assert response.status_code == 200
    assert numbers(response) == [mix["urgent"].number]
    assert "is-invalid" in response.content.decode()


def test_the_queue_pages_with_a_cursor(login, org, settings):
    made = [
        register(org.agent, description=f"工单{i}", received_at=clock.now() - timedelta(minutes=i)) for i in range(35)
    ]
    client = login(org.lead)
    first = client.get("/queue/")
    assert numbers(first) == [c.number for c in made[:30]]
    next_query = first.context["next_query"]
    assert next_query
    second = client.get(f"/queue/?{next_query}")
    assert numbers(second) == [c.number for c in made[30:]]
    assert not second.context["next_query"]
    # htmx asks for just the next rows
    fragment = client.get(f"/queue/?{next_query}&fragment=rows", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and made[34].number in fragment and made[0].number not in fragment


def test_a_broken_cursor_is_a_400_page(login, org):
    response = login(org.lead).get("/queue/?cursor=@@@")
    assert response.status_code == 400
    assert "分页游标无效" in response.content.decode()


def test_the_queue_page_query_count_does_not_grow_with_rows(login, org, django_assert_max_num_queries):
    client = login(org.lead)
    register(org.agent, category_id=org.leaf.pk)
    client.get("/queue/")  # warm the session
    with django_assert_max_num_queries(12) as few:
        client.get("/queue/")
    for i in range(40):
        walk(register(org.agent, category_id=org.leaf.pk, description=f"工单{i}"), org, "take")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/queue/")
    assert len(response.context["rows"]) == 30


def test_the_workbench_query_count_is_bounded(login, org, django_assert_max_num_queries):
    for i in range(15):
        walk(register(org.agent, description=f"工单{i}"), org, "take")
    client = login(org.handler)
    client.get("/")
    with django_assert_max_num_queries(14):
        response = client.get("/")
    assert len(response.context["mine"]) == 10


def test_search_by_number_opens_the_complaint(login, org, complaint):
    response = login(org.agent).get(f"/search/?q={complaint.number.lower()}")
    assert response.status_code == 302 and response["Location"] == f"/complaints/{complaint.pk}/"


def test_search_by_phone_lists_that_callers_complaints(login, org, complaint):
    other = register(org.agent, complainant_phone="13900000000")
    response = login(org.agent).get("/search/?q=138-1234-5678")
    assert numbers(response) == [complaint.number]
    assert other.number not in response.content.decode()


def test_search_by_keyword(login, org, complaint):
    register(org.agent, description="宽带断网")
    response = login(org.agent).get("/search/?q=信号")
    assert numbers(response) == [complaint.number]


def test_an_empty_search_shows_the_form(login, org):
    response = login(org.agent).get("/search/")
    assert response.status_code == 200 and 'name="q"' in response.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        "received_from=0001-01-01",
        "received_to=9999-12-31",
        "received_from=2026-13-45",
        "category=abc&department=-1",
        "q=%00%00",
        "q=" + "长" * 500,
        "status=nonsense&overdue=maybe",
    ],
)
def test_odd_queue_input_never_breaks_the_page(login, org, complaint, query):
    response = login(org.lead).get(f"/queue/?{query}")
    assert response.status_code in (200, 400)
