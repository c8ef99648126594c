import pytest

from kuaixiang.notify.models import Notification
from kuaixiang.notify.services import inbox_unread_count
from tests.web.support import walk


@pytest.fixture
def dispatched(org, complaint):
    """Dispatching tells the network department's handler and head (one inbox message each)."""
    return walk(complaint, org, "dispatch")


def test_the_inbox_lists_my_messages_newest_first(login, org, dispatched):
    response = login(org.handler).get("/inbox/")
    html = response.content.decode()
    assert response.status_code == 200
    assert f"【{dispatched.number}】派单" in html
    assert len(response.context["items"]) == 1


def test_the_bell_shows_the_unread_count(login, org, dispatched):
    client = login(org.handler)
    html = client.get("/inbox/bell/").content.decode()
    assert 'id="bell"' in html and 'data-count="1"' in html and "<html" not in html


def test_mark_one_read(login, org, dispatched):
    message = Notification.objects.get(recipient=org.handler, channel="inbox")
    client = login(org.handler)
    response = client.post("/inbox/read/", {"id": str(message.pk)})
    assert response.status_code == 302 and response["Location"] == "/inbox/"
    assert inbox_unread_count(org.handler) == 0
    assert "data-count=" not in client.get("/inbox/bell/").content.decode()


def test_opening_a_message_marks_it_read_and_goes_to_the_complaint(login, org, dispatched):
    message = Notification.objects.get(recipient=org.handler, channel="inbox")
    response = login(org.handler).post("/inbox/read/", {"id": str(message.pk), "next": message.link})
    assert response["Location"] == f"/complaints/{dispatched.pk}/"
    assert inbox_unread_count(org.handler) == 0


def test_mark_all_read(login, org, dispatched):
    login(org.head).post("/inbox/read/", {"all": "1"})
    assert inbox_unread_count(org.head) == 0


def test_someone_elses_message_cannot_be_marked(login, org, dispatched):
    message = Notification.objects.get(recipient=org.handler, channel="inbox")
    login(org.head).post("/inbox/read/", {"id": str(message.pk)})
    assert inbox_unread_count(org.handler) == 1


def test_a_malformed_id_is_a_400(login, org):
    assert login(org.handler).post("/inbox/read/", {"id": "nope"}).status_code == 400


def test_next_must_stay_on_this_site(login, org, dispatched):
    response = login(org.handler).post("/inbox/read/", {"all": "1", "next": "https://evil.example/"})
    assert response["Location"] == "/inbox/"


def test_unread_only(login, org, dispatched):
    client = login(org.handler)
    client.post("/inbox/read/", {"all": "1"})
    assert client.get("/inbox/?unread=1").context["items"] == []
    assert len(client.get("/inbox/").context["items"]) == 1
