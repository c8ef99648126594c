"""Digest items are visible, read-only, in the admin (who waits for which escalation)."""

from django.contrib.auth import get_user_model

from kuaixiang import clock
from kuaixiang.sla.models import ComplaintStage, DigestItem
from tests.personas import register
from tests.sla.policies import make_policy


def test_digest_items_list_filter_and_cannot_be_added(org, client):
    client.force_login(get_user_model().objects.create_superuser("root", "", "x"))
    admin_client = client
    make_policy(digest=True)
    complaint = register(org.agent)
    stage = ComplaintStage.objects.filter(complaint=complaint).first()
    DigestItem.objects.create(
        recipient=org.lead, complaint=complaint, stage=stage, level=2, label="二级督办", created_at=clock.now()
    )
    listing = admin_client.get("/admin/sla/digestitem/?sent_at__isnull=True")
    assert listing.status_code == 200
    assert complaint.number in listing.content.decode()
    assert admin_client.get(f"/admin/sla/digestitem/?q={complaint.number}").status_code == 200
    item = DigestItem.objects.get()
    assert admin_client.get(f"/admin/sla/digestitem/{item.pk}/change/").status_code == 200
    assert admin_client.get("/admin/sla/digestitem/add/").status_code == 403
