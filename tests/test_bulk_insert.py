"""rows_insert writes every column as the ORM would (COPY on PostgreSQL, multi-row INSERT else)."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext

from kuaixiang import clock
from kuaixiang.bulk_insert import rows_insert
from kuaixiang.complaints.lifecycle import State
from kuaixiang.complaints.models import Complaint, ComplaintEvent, Intent
from kuaixiang.sla.models import ComplaintStage
from tests.personas import register
from tests.sla.policies import make_policy


def _columns(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields if not f.primary_key}


def test_stages_read_back_as_written(org):
    make_policy()
    complaint = register(org.agent)
    template = ComplaintStage.objects.filter(complaint=complaint).first()
    now = clock.now()
    rows = []
    for i in range(3):
        row = ComplaintStage(**{**_columns(template), "stage": f"stage-{i}", "due_at": now + timedelta(hours=i)})
        row.paused_at = None if i else now
        row.breached = bool(i % 2)
        rows.append(row)

    rows_insert(rows)

    stored = ComplaintStage.objects.filter(stage__startswith="stage-").order_by("stage")
    assert [_columns(s) for s in stored] == [_columns(r) for r in rows]
    assert all(not r._state.adding for r in rows)


def test_with_ids_gives_each_object_its_row(org):
    source = register(org.agent, description="原始投诉")
    copies = []
    for i in range(250):  # more than one statement's worth of rows on SQLite
        copy = Complaint(**{**_columns(source), "number": f"COPY{i:05d}", "description": f"第{i}条", "flags": ["媒体"]})
        copy.intent, copy.status = Intent.SUGGESTION, State.DISPATCHED  # enum members: stored by value
        copies.append(copy)

    rows_insert(copies, with_ids=True)

    assert len({c.pk for c in copies}) == 250
    by_pk = {c.pk: c for c in Complaint.objects.filter(number__startswith="COPY")}
    assert set(by_pk) == {c.pk for c in copies}
    for made in copies:
        stored = by_pk[made.pk]
        assert model_to_dict(stored) == model_to_dict(made)
        assert stored.flags == ["媒体"] and stored.grading == source.grading
    raw = set(Complaint.objects.filter(number__startswith="COPY").values_list("intent", "status"))
    assert raw == {("suggestion", "dispatched")}
    # the next ordinary insert does not collide with the ids handed out
    assert register(org.agent).pk > max(by_pk)


def test_json_payloads_and_the_statement_count(org):
    complaint = register(org.agent)
    events = [
        ComplaintEvent(
            complaint=complaint, actor=org.agent, at=clock.now(), action="note", payload={"i": i, "文": "字"}
        )
        for i in range(40)
    ]
    with CaptureQueriesContext(connection) as queries:
        rows_insert(events)
    assert len(queries) <= 1  # one INSERT (SQLite); COPY is not a captured query
    stored = ComplaintEvent.objects.filter(action="note").order_by("payload__i")
    assert [e.payload for e in stored] == [{"i": i, "文": "字"} for i in range(40)]


def test_a_constraint_violation_is_djangos_integrity_error_and_writes_nothing(org):
    source = register(org.agent)
    twins = [Complaint(**{**_columns(source), "number": f"TWIN{i}"}) for i in range(2)]
    twins.append(Complaint(**{**_columns(source)}))  # the same number as the source: unique
    with pytest.raises(IntegrityError), transaction.atomic():
        rows_insert(twins, with_ids=True)
    assert not Complaint.objects.filter(number__startswith="TWIN").exists()
