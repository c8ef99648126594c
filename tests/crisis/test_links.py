"""Linked complaints: new matching ones join automatically, manual link and unlink, branch incidents."""

import pytest
import time_machine

from kuaixiang.crisis import branches, links, services
from kuaixiang.crisis.models import IncidentComplaint
from kuaixiang.errors import Conflict, Forbidden, NotFound
from tests.crisis.conftest import local
from tests.personas import register


@pytest.fixture
def incident(crisis_org):
    with time_machine.travel(local(2025, 9, 30, 10, 0), tick=False):
        return services.incident_open(
            playbook="telecom_crisis",
            title="信号弱批量投诉",
            actor=crisis_org.hq_manager,
            match_category=crisis_org.category,
        )


def test_new_complaints_in_the_category_subtree_join_the_open_incident(crisis_org, incident):
    with time_machine.travel(local(2025, 9, 30, 10, 30), tick=False):
        inside = register(crisis_org.agent, category_id=crisis_org.leaf.pk)
        register(crisis_org.agent)  # no category: not linked
    links = IncidentComplaint.objects.filter(incident=incident)
    assert list(links.values_list("complaint_id", "source")) == [(inside.pk, "match")]
    assert links.get().received_at == inside.received_at
    incident.refresh_from_db()
    assert incident.linked_count == 1


def test_a_closed_incident_links_nothing_more(crisis_org, incident):
    services.incident_close(incident_id=incident.pk, actor=crisis_org.hq_manager)
    register(crisis_org.agent, category_id=crisis_org.leaf.pk)
    assert not IncidentComplaint.objects.exists()


def test_manual_link_and_unlink(crisis_org, incident):
    complaint = register(crisis_org.agent)
    links.incident_link(incident_id=incident.pk, complaint_id=complaint.pk, actor=crisis_org.hq_manager)
    with pytest.raises(Conflict):
        links.incident_link(incident_id=incident.pk, complaint_id=complaint.pk, actor=crisis_org.hq_manager)
    incident.refresh_from_db()
    assert incident.linked_count == 1
    links.incident_unlink(incident_id=incident.pk, complaint_id=complaint.pk, actor=crisis_org.hq_manager)
    incident.refresh_from_db()
    assert incident.linked_count == 0 and not IncidentComplaint.objects.exists()
    assert [e.kind for e in incident.events.filter(kind__in=["link", "unlink"])] == ["link", "unlink"]
    with pytest.raises(NotFound):
        links.incident_unlink(incident_id=incident.pk, complaint_id=complaint.pk, actor=crisis_org.hq_manager)


def test_linking_needs_a_role_and_a_visible_complaint(crisis_org, incident):
    complaint = register(crisis_org.agent)
    with pytest.raises(Forbidden):
        links.incident_link(incident_id=incident.pk, complaint_id=complaint.pk, actor=crisis_org.pr)
    with pytest.raises(NotFound):
        links.incident_link(incident_id=incident.pk, complaint_id=10**9, actor=crisis_org.hq_manager)
    assert not IncidentComplaint.objects.exists()


def test_pushed_branches_share_the_links_of_their_complaints(crisis_org, incident):
    register(crisis_org.agent, category_id=crisis_org.leaf.pk)
    children = branches.incident_push_branches(incident_id=incident.pk, actor=crisis_org.hq_manager)
    by_unit = {c.unit.code: c for c in children}
    assert set(by_unit) == {"a", "b"}
    assert by_unit["a"].linked_count == 1 and by_unit["b"].linked_count == 0
    register(crisis_org.outside_agent, category_id=crisis_org.leaf.pk)  # a complaint taken in by branch B
    for child in children:
        child.refresh_from_db()
    incident.refresh_from_db()
    assert (incident.linked_count, by_unit["a"].linked_count, by_unit["b"].linked_count) == (2, 1, 1)
