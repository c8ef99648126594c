"""The admin: every configuration model is there; complaints and events are read-only and scoped."""

import pytest
from django.contrib.auth import get_user_model

from kuaixiang.api.models import ApiToken
from kuaixiang.complaints.models import Complaint, ComplaintEvent
from kuaixiang.complaints.services import complaint_transition
from kuaixiang.notify.models import Notification, WebhookEndpoint
from kuaixiang.org.models import Staff
from tests.personas import register
from tests.web.support import walk


@pytest.fixture
def superuser(client, org):
    user = get_user_model().objects.create_superuser("root", password="x-pass-123")
    client.force_login(user)
    return client


@pytest.fixture
def data(org, complaint):
    walk(complaint, org, "dispatch")
    WebhookEndpoint.objects.create(name="网络部群", format="wecom", url="https://qyapi.example/hook")
    ApiToken.objects.create(user=org.agent, key_hash="0" * 64, name="12345 接口", created_at=complaint.created_at)
    return complaint


CHANGELISTS = [
    "org/department",
    "org/staff",
    "auth/user",
    "triage/category",
    "notify/webhookendpoint",
    "notify/notification",
    "api/apitoken",
    "complaints/complaint",
    "complaints/complaintevent",
]


@pytest.mark.parametrize("model", CHANGELISTS)
def test_every_model_has_a_working_admin_list(superuser, data, model):
    response = superuser.get(f"/admin/{model}/")
    assert response.status_code == 200, model


def test_departments_show_as_a_tree(superuser, org):
    html = superuser.get("/admin/org/department/").content.decode()
    assert "\u3000└ 甲网络部" in html


def test_a_user_page_carries_the_staff_inline(superuser, org):
    html = superuser.get(f"/admin/auth/user/{org.agent.pk}/change/").content.decode()
    assert "staff-0-role" in html or "id_staff-0-role" in html


def test_configuration_is_editable(superuser, org):
    assert superuser.get("/admin/org/department/add/").status_code == 200
    assert superuser.get("/admin/triage/category/add/").status_code == 200
    assert superuser.get("/admin/notify/webhookendpoint/add/").status_code == 200


def test_complaints_are_read_only_in_the_admin(superuser, data):
    assert superuser.get("/admin/complaints/complaint/add/").status_code == 403
    page = superuser.get(f"/admin/complaints/complaint/{data.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="_save"' not in html and data.number in html
    before = Complaint.objects.values().get(pk=data.pk)
    response = superuser.post(f"/admin/complaints/complaint/{data.pk}/change/", {"status": "archived"})
    assert response.status_code == 403
    assert Complaint.objects.values().get(pk=data.pk) == before
    assert superuser.post(f"/admin/complaints/complaint/{data.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Complaint.objects.filter(pk=data.pk).exists()


def test_events_and_notifications_are_read_only(superuser, data):
    event = ComplaintEvent.objects.filter(complaint=data).first()
    assert superuser.post(f"/admin/complaints/complaintevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    note = Notification.objects.first()
    assert superuser.get("/admin/notify/notification/add/").status_code == 403
    assert superuser.post(f"/admin/notify/notification/{note.pk}/change/", {}).status_code == 403


def test_notifications_filter_by_status_and_attempts(superuser, data):
    response = superuser.get("/admin/notify/notification/?status__exact=sent&attempts=0")
    assert response.status_code == 200
    assert "【" in response.content.decode()


def test_complaint_search_by_number_or_phone_in_any_notation(superuser, data):
    other = register(data.registered_by, complainant_phone="13900000000")
    for term in (data.number.lower(), "138-1234-5678", "+86 138 1234 5678"):
        html = superuser.get("/admin/complaints/complaint/", {"q": term}).content.decode()
        assert data.number in html and other.number not in html, term


def test_the_complaint_admin_keeps_the_data_scope(client, org, data):
    theirs = register(org.outside_agent)
    complaint_transition(complaint_id=theirs.pk, action="accept", actor=org.outside_agent)
    data_ = {"department_id": org.other_network.pk}
    complaint_transition(complaint_id=theirs.pk, action="dispatch", actor=org.outside_agent, data=data_)
    org.outsider.is_staff = True
    org.outsider.save()
    from django.contrib.auth.models import Permission

    org.outsider.user_permissions.add(Permission.objects.get(codename="view_complaint"))
    client.force_login(org.outsider)
    html = client.get("/admin/complaints/complaint/").content.decode()
    assert theirs.number in html
    assert data.number not in html
    assert client.get(f"/admin/complaints/complaint/{data.pk}/change/").status_code == 302  # not found -> index


def test_the_admin_masks_phones_for_roles_that_may_not_see_them(client, org, data):
    from django.contrib.auth.models import Permission

    hq_complaint = register(org.hq_manager)
    org.pr.is_staff = True
    org.pr.save()
    org.pr.user_permissions.add(Permission.objects.get(codename="view_complaint"))
    client.force_login(org.pr)
    html = client.get("/admin/complaints/complaint/").content.decode()
    assert hq_complaint.number in html
    assert "138****5678" in html and "13812345678" not in html
    detail = client.get(f"/admin/complaints/complaint/{hq_complaint.pk}/change/").content.decode()
    assert "13812345678" not in detail


def test_api_tokens_can_be_seen_and_revoked_but_not_edited(superuser, data):
    token = ApiToken.objects.get()
    html = superuser.get(f"/admin/api/apitoken/{token.pk}/change/").content.decode()
    assert "0" * 64 not in html
    assert superuser.get("/admin/api/apitoken/add/").status_code == 403
    superuser.post(f"/admin/api/apitoken/{token.pk}/delete/", {"post": "yes"})
    assert not ApiToken.objects.exists()


def test_staff_records_list(superuser, org):
    html = superuser.get("/admin/org/staff/?role__exact=handler").content.decode()
    assert Staff.objects.filter(role="handler").count() >= 2
    assert "handler" in html
