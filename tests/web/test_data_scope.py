"""The outsider (a handler in the other branch) sees nothing of the first branch, on any page."""

from kuaixiang.complaints.models import ComplaintEvent
from tests.personas import register
from tests.web.support import walk


def test_the_outsider_cannot_open_another_branchs_complaint(login, org, complaint):
    client = login(org.outsider)
    response = client.get(f"/complaints/{complaint.pk}/")
    assert response.status_code == 404
    assert complaint.number not in response.content.decode()
    assert client.get(f"/complaints/{complaint.pk}/actions/refuse/").status_code == 404


def test_the_outsider_cannot_act_on_it(login, org, complaint):
    events = ComplaintEvent.objects.count()
    response = login(org.outsider).post(f"/complaints/{complaint.pk}/actions/accept/")
    assert response.status_code == 404
    complaint.refresh_from_db()
    assert complaint.status == "registered" and ComplaintEvent.objects.count() == events


def test_nothing_of_it_shows_in_the_outsiders_lists_search_or_counts(login, org, complaint):
    walk(complaint, org, "take")
    theirs = register(org.outside_agent, description="乙分公司的工单")
    client = login(org.outsider)
    for url in ("/", "/queue/", "/queue/?status=processing", "/search/?q=手机"):
        html = client.get(url).content.decode()
        assert complaint.number not in html, url
    found = client.get(f"/search/?q={complaint.number}")
    assert found.status_code == 200 and found.context["rows"] == []
    counts = client.get("/").context["counts"]
    assert counts.get("processing", 0) == 0
    agent_html = login(org.outside_agent).get("/queue/").content.decode()
    assert theirs.number in agent_html and complaint.number not in agent_html


def test_the_outsider_cannot_upload_to_it(login, org, complaint):
    from django.core.files.uploadedfile import SimpleUploadedFile

    files = [SimpleUploadedFile("a.txt", b"a", content_type="text/plain")]
    response = login(org.outsider).post(f"/complaints/{complaint.pk}/attachments/", {"attachments": files})
    assert response.status_code == 404
    assert complaint.attachments.count() == 0
