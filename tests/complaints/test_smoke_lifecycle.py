from kuaixiang.complaints.services import complaint_transition
from tests.personas import register


def test_a_complaint_walks_from_registration_to_archive(org):
    c = register(org.agent)
    steps = [
        ("accept", org.agent, {}),
        ("dispatch", org.agent, {"department_id": org.network.pk}),
        ("take", org.handler, {}),
        ("return", org.handler, {"findings": "基站故障", "solution": "已修复"}),
        ("review_pass", org.lead, {}),
        ("reply", org.agent, {"content": "已修复，请重试"}),
        ("revisit", org.agent, {"satisfaction": 5, "solved": True}),
        ("archive", org.lead, {}),
    ]
    for action, actor, data in steps:
        c = complaint_transition(complaint_id=c.pk, action=action, actor=actor, data=data)
    assert c.status == "archived"
    assert [e.action for e in c.events.order_by("at", "id")] == ["register"] + [s[0] for s in steps]
