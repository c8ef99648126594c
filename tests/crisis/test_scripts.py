"""The explanation script: PR drafts, a leader approves, publication in versions, shown to agents,
used by the bulk reply, and the version each reply used is recorded."""

import pytest
from django.test import Client

from kuaixiang.complaints.lifecycle import State
from kuaixiang.crisis import scripts, services
from kuaixiang.crisis.models import IncidentComplaint, ScriptVersion
from kuaixiang.errors import Conflict, Forbidden
from tests.lifecycle_paths import complaint_in
from tests.personas import PASSWORD, register

TEXT = "因核心网设备故障导致部分用户无法通话，已于 14:00 恢复，对受影响用户减免当月月租。"


@pytest.fixture
def incident(crisis_org):
    return services.incident_open(
        playbook="telecom_crisis", title="核心网故障", actor=crisis_org.hq_manager, match_category=crisis_org.category
    )


def _published(org, incident, text=TEXT):
    draft = scripts.script_draft(incident_id=incident.pk, actor=org.pr, content=text)
    scripts.script_approve(incident_id=incident.pk, actor=org.leader, number=draft.number)
    return scripts.script_publish(incident_id=incident.pk, actor=org.pr, number=draft.number)


def test_pr_drafts_a_leader_approves_pr_publishes(crisis_org, incident):
    version = _published(crisis_org, incident)
    version.refresh_from_db()
    assert (version.number, version.status) == (1, "published")
    assert (version.drafted_by, version.approved_by, version.published_by) == (
        crisis_org.pr,
        crisis_org.leader,
        crisis_org.pr,
    )
    assert incident.tasks.get(key="script").state == "done"
    second = scripts.script_publish(incident_id=incident.pk, actor=crisis_org.leader, content="第二版口径")
    assert second.number == 2
    assert dict(ScriptVersion.objects.values_list("number", "status")) == {1: "superseded", 2: "published"}
    assert scripts.script_current(incident).number == 2


def test_the_roles_are_enforced(crisis_org, incident):
    with pytest.raises(Forbidden):
        scripts.script_draft(incident_id=incident.pk, actor=crisis_org.agent, content=TEXT)
    draft = scripts.script_draft(incident_id=incident.pk, actor=crisis_org.pr, content=TEXT)
    with pytest.raises(Forbidden):
        scripts.script_approve(incident_id=incident.pk, actor=crisis_org.pr, number=draft.number)
    with pytest.raises(Conflict):  # not approved yet
        scripts.script_publish(incident_id=incident.pk, actor=crisis_org.pr, number=draft.number)
    with pytest.raises(Forbidden):  # PR may not skip the approval
        scripts.script_publish(incident_id=incident.pk, actor=crisis_org.pr, content="未经审批")
    assert scripts.script_current(incident) is None


def test_an_agent_opening_a_linked_complaint_sees_the_current_script_on_top(crisis_org, incident):
    complaint = register(crisis_org.agent, category_id=crisis_org.leaf.pk)
    _published(crisis_org, incident)
    client = Client()
    client.login(username="agent", password=PASSWORD)
    page = client.get(f"/complaints/{complaint.pk}/").content.decode()
    assert f'id="crisis-script-{incident.pk}"' in page and TEXT in page
    assert page.index("crisis-script") < page.index('id="actions"')
    other = register(crisis_org.agent)
    assert "crisis-script" not in client.get(f"/complaints/{other.pk}/").content.decode()


def test_an_agent_registering_a_complaint_sees_the_scripts_of_open_incidents(crisis_org, incident):
    _published(crisis_org, incident)
    client = Client()
    client.login(username="agent", password=PASSWORD)
    form = client.get("/complaints/new/").content.decode()
    assert TEXT in form and form.index("crisis-script") < form.index('id="complaint-form"')


def test_the_bulk_reply_answers_the_replyable_ones_and_records_the_version(crisis_org, incident):
    ready = [complaint_in(crisis_org, State.REVIEWED, category_id=crisis_org.leaf.pk) for _ in range(2)]
    early = complaint_in(crisis_org, State.PROCESSING, category_id=crisis_org.leaf.pk)
    with pytest.raises(Conflict):  # nothing published yet
        scripts.incident_bulk_reply(incident_id=incident.pk, actor=crisis_org.hq_manager)
    version = _published(crisis_org, incident)
    result = scripts.incident_bulk_reply(incident_id=incident.pk, actor=crisis_org.hq_manager)
    assert sorted(r["complaint_id"] for r in result.replied) == sorted(c.pk for c in ready)
    assert [(s["complaint_id"], s["reason"]) for s in result.skipped] == [(early.pk, "not_replyable")]
    for complaint in ready:
        complaint.refresh_from_db()
        assert (complaint.status, complaint.reply_content) == ("replied", TEXT)
        assert IncidentComplaint.objects.get(incident=incident, complaint=complaint).replied_with == version
    assert not IncidentComplaint.objects.get(complaint=early).replied_with
    again = scripts.incident_bulk_reply(incident_id=incident.pk, actor=crisis_org.hq_manager)
    assert again.replied == []


def test_a_reply_given_by_hand_with_the_script_records_its_version(crisis_org, incident):
    from kuaixiang.complaints.services import complaint_transition

    complaint = complaint_in(crisis_org, State.REVIEWED, category_id=crisis_org.leaf.pk)
    version = _published(crisis_org, incident)
    complaint_transition(complaint_id=complaint.pk, action="reply", actor=crisis_org.agent, data={"content": TEXT})
    assert IncidentComplaint.objects.get(complaint=complaint).replied_with == version


def test_a_drill_never_replies_to_customers(crisis_org):
    drill = services.incident_open(playbook="telecom_crisis", title="演练", actor=None, sandbox=True)
    scripts.script_publish(incident_id=drill.pk, actor=crisis_org.leader, content=TEXT)
    with pytest.raises(Conflict) as caught:
        scripts.incident_bulk_reply(incident_id=drill.pk, actor=crisis_org.hq_manager)
    assert caught.value.code == "sandbox_no_reply"
