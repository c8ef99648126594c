"""seed_demo builds a usable demo: role logins, the organisation tree, categories, and
complaints whose timelines agree with their status (they went through the real services)."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Count

from kuaixiang.complaints.lifecycle import State
from kuaixiang.complaints.models import Complaint, ComplaintEvent
from kuaixiang.demo.organisation import DEMO_USERNAMES
from kuaixiang.org.models import Department, Staff
from kuaixiang.triage.models import Category

PASSWORD = "demo-test-pass"


@pytest.fixture
def demo_password(monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", PASSWORD)
    return PASSWORD


def seed(capsys, *args):
    call_command("seed_demo", *args)
    return capsys.readouterr().out


@pytest.mark.django_db
class TestLoginsAndOrganisation:
    def test_every_role_has_a_login_named_after_it_that_works_with_the_demo_password(
        self, demo_password, capsys, client
    ):
        out = seed(capsys, "--complaints", "0")

        users = {u.username: u for u in get_user_model().objects.filter(username__in=DEMO_USERNAMES)}
        assert set(users) == set(DEMO_USERNAMES)
        for username, user in users.items():
            assert user.check_password(demo_password), username
            assert Staff.objects.get(user=user).role == username
            assert re.search(rf"^\s+{username}\s", out, re.MULTILINE), f"{username} not printed"
        assert users["admin"].is_superuser and users["admin"].is_staff
        assert "http://localhost:" in out and demo_password in out

        response = client.post(
            "/api/v1/auth/token", {"username": "agent", "password": demo_password}, content_type="application/json"
        )
        assert response.status_code == 200 and response.json()["token"]

    def test_logins_sit_where_their_work_is(self, demo_password, capsys):
        seed(capsys, "--complaints", "0")
        place = {s.user.username: s.department for s in Staff.objects.select_related("user", "department")}

        centre = place["agent"]
        assert centre.function == Department.Function.COMPLAINT_CENTRE
        assert centre.parent.level == Department.Level.BRANCH
        assert place["lead"] == place["manager"] == centre
        assert place["handler"] == place["head"]
        assert place["handler"].function == Department.Function.NETWORK
        assert place["handler"].parent == centre.parent  # the same branch
        for username, function in (("pr", "pr"), ("legal", "legal"), ("leader", "leadership")):
            assert place[username].function == function
            assert place[username].unit().level == Department.Level.HQ
        assert place["admin"].level == Department.Level.HQ and place["admin"].parent is None

    def test_the_organisation_is_hq_with_two_branches_and_the_named_departments(self, demo_password, capsys):
        seed(capsys, "--complaints", "0")

        (hq,) = Department.objects.filter(parent__isnull=True)
        assert (hq.name, hq.level) == ("总部", Department.Level.HQ)
        branches = list(Department.objects.filter(parent=hq, level=Department.Level.BRANCH))
        assert len(branches) == 2
        functions = set(Department.objects.values_list("function", flat=True))
        assert set(Department.Function.values) - {"general"} <= functions
        for branch in branches:
            below = set(Department.objects.filter(parent=branch).values_list("function", flat=True))
            assert {"complaint_centre", "network", "group_customers", "business_support", "quality"} <= below
        assert Department.objects.filter(level=Department.Level.DEPARTMENT).exclude(staff=None).count() == (
            Department.objects.filter(level=Department.Level.DEPARTMENT).count()
        )
        # a few more staff than the role logins, with Chinese names
        extra = Staff.objects.exclude(user__username__in=DEMO_USERNAMES).select_related("user")
        assert extra.count() >= 20
        assert all(re.fullmatch(r"[\u4e00-\u9fff]{2,4}", s.user.get_full_name()) for s in extra)

    def test_the_telecom_categories_are_loaded(self, demo_password, capsys):
        seed(capsys, "--complaints", "0")

        assert Category.objects.filter(level=5).count() > 50
        assert Category.objects.filter(name="宽带断线", level=5).exists()


@pytest.mark.django_db
class TestComplaints:
    def test_complaints_spread_over_states_and_each_timeline_agrees_with_its_status(self, demo_password, capsys):
        seed(capsys, "--complaints", "160", "--days", "30", "--seed", "7")

        complaints = list(Complaint.objects.select_related("category"))
        assert len(complaints) == 160
        by_status = dict(Complaint.objects.values_list("status").annotate(n=Count("id")).order_by())
        assert len(by_status) >= 5, by_status
        assert by_status.get(State.ARCHIVED, 0) > 0 and by_status.get(State.REGISTERED, 0) > 0
        assert len({c.channel for c in complaints}) >= 4
        assert len({c.category_id for c in complaints}) >= 20
        assert all(c.category.is_leaf for c in complaints[:40])
        received = sorted(c.received_at for c in complaints)
        assert (received[-1] - received[0]).days >= 20

        events = {}
        for event in ComplaintEvent.objects.order_by("at", "id"):
            events.setdefault(event.complaint_id, []).append(event)
        for c in complaints:
            timeline = events[c.pk]
            assert timeline[0].action == "register" and timeline[0].to_status == State.REGISTERED
            assert timeline[0].at == c.created_at >= c.received_at
            status = ""
            for event in timeline:
                assert event.from_status == status, (c.number, event.action)
                status = event.to_status
            assert status == c.status, c.number
            # The demo's escalation sweep adds 督办 events; they do not touch the complaint itself.
            assert c.updated_at == [e for e in timeline if e.action != "escalate"][-1].at

    def test_milestones_and_links_match_the_final_state(self, demo_password, capsys):
        seed(capsys, "--complaints", "160", "--seed", "7")

        for c in Complaint.objects.filter(status=State.ARCHIVED):
            assert c.archived_at and c.closed_at
        for c in Complaint.objects.filter(status=State.MERGED).select_related("merged_into"):
            merge = c.events.get(action="merge")
            assert c.closed_at == merge.at
            assert merge.payload["into_number"] == c.merged_into.number
        for c in Complaint.objects.filter(status__in=[State.DISPATCHED, State.PROCESSING, State.RETURNED]):
            assert c.department_id is not None
        for c in Complaint.objects.filter(status=State.PROCESSING):
            assert Staff.objects.get(user_id=c.assignee_id).department_id == c.department_id
        for c in Complaint.objects.filter(status=State.REVISITED):
            assert c.satisfaction in range(1, 6) and c.solved is not None


@pytest.mark.django_db
class TestReruns:
    def test_if_empty_keeps_existing_data_and_a_plain_rerun_refuses(self, demo_password, capsys):
        seed(capsys, "--complaints", "20")
        numbers = set(Complaint.objects.values_list("number", flat=True))

        out = seed(capsys, "--if-empty", "--complaints", "50")

        assert "跳过" in out
        assert set(Complaint.objects.values_list("number", flat=True)) == numbers
        with pytest.raises(CommandError, match="--reset"):
            call_command("seed_demo", "--complaints", "5")

    def test_reset_rebuilds_from_scratch(self, demo_password, capsys):
        seed(capsys, "--complaints", "20")

        seed(capsys, "--reset", "--complaints", "30")

        assert Complaint.objects.count() == 30
        assert Department.objects.filter(parent__isnull=True).count() == 1
        assert get_user_model().objects.filter(username="agent").count() == 1

    def test_without_demo_password_a_random_one_is_generated_and_printed(self, monkeypatch, capsys):
        monkeypatch.delenv("DEMO_PASSWORD", raising=False)

        out = seed(capsys, "--complaints", "0")

        password = re.search(r"密码（随机生成[^）]*）：(\S+)", out).group(1)
        assert len(password) >= 10
        assert get_user_model().objects.get(username="leader").check_password(password)
