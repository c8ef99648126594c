"""complaint_regrade: the agent's override of the grading, recorded on the timeline."""

import pytest

from kuaixiang.complaints.models import Complaint, ComplaintEvent
from kuaixiang.complaints.services import complaint_regrade, complaint_transition
from kuaixiang.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.personas import register


def events(complaint):
    return list(ComplaintEvent.objects.filter(complaint=complaint, action="regrade"))


class TestRegrade:
    def test_changed_fields_are_written_with_one_event_holding_before_and_after(self, org):
        c = register(org.agent)
        out = complaint_regrade(
            complaint_id=c.pk,
            actor=org.agent,
            data={
                "severity": "major",
                "intent": "grievance",
                "flags": ["media", "media", "legal"],
                "reason": "记者已来电",
            },
        )
        out.refresh_from_db()
        assert (out.severity, out.intent, out.flags) == ("major", "grievance", ["media", "legal"])
        (event,) = events(c)
        assert event.payload == {
            "before": {"severity": "general", "flags": []},
            "after": {"severity": "major", "flags": ["media", "legal"]},
            "reason": "记者已来电",
        }
        assert (event.actor, event.from_status, event.to_status) == (org.agent, "registered", "registered")
        assert out.grading["override"]["fields"] == ["flags", "severity"]

    def test_invalid_needs_a_reason_and_valid_clears_it(self, org):
        c = register(org.agent)
        with pytest.raises(InvalidInput) as exc:
            complaint_regrade(complaint_id=c.pk, actor=org.agent, data={"validity": "invalid"})
        assert exc.value.code == "validity_reason_required"
        complaint_regrade(
            complaint_id=c.pk, actor=org.agent, data={"validity": "invalid", "validity_reason": "out_of_scope"}
        )
        c.refresh_from_db()
        assert (c.validity, c.validity_reason) == ("invalid", "out_of_scope")
        complaint_regrade(complaint_id=c.pk, actor=org.agent, data={"validity": "valid"})
        c.refresh_from_db()
        assert (c.validity, c.validity_reason) == ("valid", "")
        assert events(c)[-1].payload["before"] == {"validity": "invalid", "validity_reason": "out_of_scope"}

    @pytest.mark.parametrize(
        ("data", "code"),
        [
            ({"severity": "enormous"}, "validation_error"),
            ({"flags": ["press"]}, "validation_error"),
            ({"colour": "red"}, "validation_error"),
            ({"validity_reason": "anonymous"}, "validity_reason_for_valid"),
            ({"severity": "general"}, "regrade_unchanged"),
            ({}, "regrade_unchanged"),
            ({"reason": "x" * 501, "severity": "major"}, "validation_error"),
        ],
    )
    def test_bad_input_changes_nothing(self, org, data, code):
        c = register(org.agent)
        with pytest.raises(InvalidInput) as exc:
            complaint_regrade(complaint_id=c.pk, actor=org.agent, data=data)
        assert exc.value.code == code
        assert Complaint.objects.get(pk=c.pk).severity == "general" and events(c) == []

    def test_roles_scope_and_state_are_enforced(self, org):
        c = register(org.agent)
        with pytest.raises(NotFound):
            complaint_regrade(complaint_id=c.pk, actor=org.outside_agent, data={"severity": "major"})
        with pytest.raises(Forbidden):
            complaint_regrade(complaint_id=c.pk, actor=org.leader, data={"severity": "major"})
        complaint_regrade(complaint_id=c.pk, actor=org.lead, data={"severity": "major"})
        other = register(org.agent, complainant_phone="13900000000", description="另一件事情")
        complaint_transition(complaint_id=c.pk, action="merge", actor=org.manager, data={"into_id": other.pk})
        with pytest.raises(Conflict):
            complaint_regrade(complaint_id=c.pk, actor=org.agent, data={"severity": "urgent"})
        assert Complaint.objects.get(pk=c.pk).severity == "major"
