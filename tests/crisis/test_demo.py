"""The demo's crisis incident: active, with tasks, a published script and branch incidents; reset removes it."""

from kuaixiang.crisis.demo import crisis_demo_reset, crisis_demo_seed
from kuaixiang.crisis.models import Incident
from kuaixiang.crisis.scripts import script_current
from kuaixiang.rulepacks import rulepack_load
from kuaixiang.triage.models import Category
from tests.personas import register


def test_the_demo_has_one_active_incident_with_a_published_script(org):
    rulepack_load("telecom")
    category = Category.objects.get(code="net-mob-cov-4g-indoor")
    register(org.agent, category_id=category.pk)
    logins = {"admin": org.admin, "pr": org.pr, "leader": org.leader}
    assert crisis_demo_seed(logins=logins) == {"incidents": 3, "linked": 1}
    incident = Incident.objects.get(parent__isnull=True)
    assert incident.status == "active" and incident.tasks.count() == 6
    assert script_current(incident).published_by == org.leader
    assert incident.branches.count() == 2
    assert crisis_demo_reset() == 3
    assert not Incident.objects.exists()


def test_without_the_playbooks_the_demo_has_no_incident(org):
    assert crisis_demo_seed(logins={}) == {"incidents": 0}
