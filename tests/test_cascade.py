"""cascade_delete: set-based deletes that follow on_delete exactly as QuerySet.delete() does."""

import pytest
from django.apps import apps
from django.db import transaction
from django.db.models.deletion import ProtectedError

from kuaixiang import clock
from kuaixiang.cascade import cascade_delete
from kuaixiang.complaints.models import Complaint, ComplaintEvent
from kuaixiang.sla.models import ComplaintStage, DigestItem
from tests.personas import register
from tests.sla.policies import make_policy


def _rows() -> dict[str, int]:
    return {m._meta.label: m._base_manager.count() for m in apps.get_models() if m._meta.managed}


@pytest.fixture
def complaints(org):
    """Two complaints to delete, one to keep that points at A (duplicate_of, SET_NULL), each with
    its events and stages, and a digest item on a stage of A."""
    make_policy()
    a = register(org.agent, description="小区断网三天了")
    b = register(org.agent, description="小区断网，客服不接电话")
    keep = register(org.outside_agent, description="别的分公司的投诉")
    Complaint.objects.filter(pk=keep.pk).update(duplicate_of=a)
    stage = ComplaintStage.objects.filter(complaint=a).first()
    DigestItem.objects.create(
        recipient=org.lead, complaint=a, stage=stage, level=1, label="一级督办", created_at=clock.now()
    )
    return a, b, keep


def test_deletes_the_set_and_what_cascades_from_it_and_nulls_outside_references(complaints):
    a, b, keep = complaints
    Complaint.objects.filter(pk=b.pk).update(merged_into=a)  # PROTECT, but from inside the set
    before = _rows()

    deleted = cascade_delete(Complaint.objects.filter(pk__in=[a.pk, b.pk]))

    assert deleted == 2
    assert list(Complaint.objects.values_list("pk", flat=True)) == [keep.pk]
    keep.refresh_from_db()
    assert keep.duplicate_of_id is None
    assert not ComplaintEvent.objects.filter(complaint__in=[a.pk, b.pk]).exists()
    assert not ComplaintStage.objects.filter(complaint__in=[a.pk, b.pk]).exists()
    assert not DigestItem.objects.exists()
    assert ComplaintEvent.objects.filter(complaint=keep).exists()
    assert ComplaintStage.objects.filter(complaint=keep).exists()
    assert _rows()["complaints.Complaint"] == before["complaints.Complaint"] - 2


def test_leaves_every_table_as_queryset_delete_does(complaints):
    a, b, _ = complaints
    with transaction.atomic():
        Complaint.objects.filter(pk__in=[a.pk, b.pk]).delete()
        by_django = _rows()
        transaction.set_rollback(True)
    with transaction.atomic():
        cascade_delete(Complaint.objects.filter(pk__in=[a.pk, b.pk]))
        ours = _rows()
        transaction.set_rollback(True)
    assert ours == by_django
    assert ours["complaints.Complaint"] == by_django["complaints.Complaint"]


def test_a_protected_reference_from_outside_the_set_stops_the_delete(complaints):
    a, b, keep = complaints
    Complaint.objects.filter(pk=keep.pk).update(merged_into=b)
    before = _rows()

    with pytest.raises(ProtectedError), transaction.atomic():
        cascade_delete(Complaint.objects.filter(pk__in=[a.pk, b.pk]))

    assert _rows() == before
