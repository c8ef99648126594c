"""Accountability: finding, penalty (fine, performance zeroed for the person and their manager), approval, reports."""

from decimal import Decimal

import pytest

from kuaixiang.errors import Conflict, Forbidden, InvalidInput
from kuaixiang.remedies.accountability import accountability_approve, accountability_record, accountability_report


def record(org, person, **kwargs):
    data = {"finding": "投诉单 2 日内未传递", "fine": 100, "zero_performance": False, **kwargs}
    return accountability_record(actor=org.manager, person_id=person.pk, **data)


def test_a_finding_names_the_person_department_and_manager(matrix, complaint):
    row = record(matrix, matrix.agent, complaint_id=complaint.pk)
    assert (row.person, row.department, row.manager, row.state) == (matrix.agent, matrix.centre, matrix.lead, "draft")
    assert record(matrix, matrix.handler).manager == matrix.head
    assert record(matrix, matrix.head).manager == matrix.leader


def test_only_recorders_record_and_only_someone_else_senior_approves(matrix):
    with pytest.raises(Forbidden):
        accountability_record(actor=matrix.agent, person_id=matrix.lead.pk, finding="x")
    row = record(matrix, matrix.agent)
    with pytest.raises(Forbidden):
        accountability_approve(actor=matrix.manager, accountability_id=row.pk)
    approved = accountability_approve(actor=matrix.leader, accountability_id=row.pk)
    assert approved.approved_by == matrix.leader and approved.state == "approved"
    with pytest.raises(Conflict):
        accountability_approve(actor=matrix.admin, accountability_id=row.pk)


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [({"fine": -1}, "invalid_fine"), ({"fine": "abc"}, "invalid_fine"), ({"finding": ""}, "finding_required")],
)
def test_bad_findings_are_refused(matrix, kwargs, code):
    with pytest.raises(InvalidInput) as exc:
        record(matrix, matrix.agent, **kwargs)
    assert exc.value.code == code


def test_reports_per_person_and_department_count_approved_findings_only(matrix):
    for person, zero in ((matrix.agent, True), (matrix.agent, False), (matrix.lead, False)):
        accountability_approve(actor=matrix.leader, accountability_id=record(matrix, person, zero_performance=zero).pk)
    record(matrix, matrix.handler)  # not approved: not counted
    report = accountability_report(matrix.leader)
    people = {p["person__username"]: (p["count"], p["fines"], p["zeroed"]) for p in report["by_person"]}
    assert people == {"agent": (2, Decimal(200), 1), "lead": (1, Decimal(100), 0)}
    assert [(d["department__name"], d["count"], d["people"]) for d in report["by_department"]] == [("甲客服中心", 3, 2)]
    assert sorted((name, why) for _, name, why in report["zeroed"]) == [("agent", "责任人"), ("lead", "直接主管")]
