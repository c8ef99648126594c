"""Policies, their targets and ladder, and the stage rows are visible in the admin."""

from kuaixiang.sla.models import ComplaintStage
from tests.personas import register
from tests.sla.policies import make_policy


def test_the_policy_and_stage_pages_render(org, client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", password="x-123456789"))
    policy = make_policy()
    stage = ComplaintStage.objects.filter(complaint=register(org.agent)).first()
    for url in [
        "/admin/sla/slapolicy/",
        "/admin/sla/slapolicy/add/",
        f"/admin/sla/slapolicy/{policy.pk}/change/",
        "/admin/sla/complaintstage/",
        f"/admin/sla/complaintstage/{stage.pk}/change/",
    ]:
        assert client.get(url).status_code == 200, url


def test_editing_a_target_renews_the_policy_so_caches_reload(org):
    from kuaixiang.sla.selectors import policy_table

    policy = make_policy()
    before = policy_table()[policy.pk].targets.get(stage="reply").amount
    target = policy.targets.get(stage="reply")
    target.amount = 9
    target.save()
    assert before == 5
    assert next(t.amount for t in policy_table()[policy.pk].targets.all() if t.stage == "reply") == 9
