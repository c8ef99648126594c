"""Count rules on intake: the crossing complaint raises the warning; one warning per window."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from kuaixiang.alerts.models import Silence, Warning, WarningComplaint, WarningCounter, WarningEvent
from kuaixiang.alerts.signals import warning_raised
from kuaixiang.notify.models import Notification
from kuaixiang.sla.signals import stage_escalated
from tests.alerts.conftest import make_rule
from tests.personas import register

MORNING = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 Shanghai


def test_the_complaint_that_crosses_the_threshold_raises_the_warning(org, rule):
    seen = []
    warning_raised.connect(
        lambda sender, **kw: seen.append((kw["warning"].level, kw["previous_level"])), weak=False, dispatch_uid="t1"
    )
    try:
        with time_machine.travel(MORNING, tick=False):
            complaints = [register(org.agent, category_id=org.leaf.pk) for _ in range(2)]
            assert not Warning.objects.exists()
            complaints.append(register(org.agent, category_id=org.leaf.pk))
    finally:
        warning_raised.disconnect(dispatch_uid="t1")
    warning = Warning.objects.get()
    assert (warning.level, warning.count, warning.scope_label) == (1, 3, "网络质量/移动网络/信号弱")
    assert warning.window_start == datetime(2026, 3, 1, 16, 0, tzinfo=UTC)  # local midnight
    assert seen == [(1, 0)]
    assert set(WarningComplaint.objects.values_list("complaint_id", flat=True)) == {c.pk for c in complaints}
    assert WarningCounter.objects.get().count == 3


def test_a_warning_grows_and_rises_but_is_never_duplicated(org, rule):
    with time_machine.travel(MORNING, tick=False):
        for _ in range(6):
            register(org.agent, category_id=org.leaf.pk)
    warning = Warning.objects.get()
    assert (warning.level, warning.count) == (3, 6)
    assert list(warning.events.filter(kind__in=["raised", "rose"]).values_list("kind", "level")) == [
        ("raised", 1),
        ("rose", 3),
    ]
    with time_machine.travel(MORNING + timedelta(days=1), tick=False):
        for _ in range(3):
            register(org.agent, category_id=org.leaf.pk)
    assert Warning.objects.count() == 2  # a new day is a new window


def test_category_level_groups_complaints_on_their_ancestor(org):
    make_rule(category_level=2)
    with time_machine.travel(MORNING, tick=False):
        for _ in range(3):
            register(org.agent, category_id=org.leaf.pk)
        register(org.agent, category_id=org.category.pk)  # level 1: not counted at level 2
    warning = Warning.objects.get()
    assert (warning.scope_label, warning.count) == ("网络质量/移动网络", 3)


def test_level_three_notifies_leaders_and_managers_grouped_in_one_message(org):
    make_rule()
    make_rule(code="channel-day", group_by="channel")
    with time_machine.travel(MORNING, tick=False):
        for _ in range(4):
            register(org.agent, category_id=org.leaf.pk)
        Notification.objects.all().delete()
        register(org.agent, category_id=org.leaf.pk)
    assert Warning.objects.filter(level=3).count() == 2
    inbox = Notification.objects.filter(channel="inbox", subject__contains="预警")
    recipients = sorted(inbox.values_list("recipient__username", flat=True))
    assert recipients == ["hq_manager", "leader", "manager"]  # one grouped message each
    assert all("2 条相关预警" in n.subject for n in inbox)


def test_inhibition_and_silence_are_recorded_and_not_notified(org):
    big = make_rule()
    small = make_rule(
        code="leaf-rolling",
        window_kind="rolling_hours",
        window_size=2,
        levels=[{"level": 1, "at": 6, "notify": [{"role": "manager"}]}],
    )
    with time_machine.travel(MORNING, tick=False):
        for _ in range(6):
            register(org.agent, category_id=org.leaf.pk)
    inhibited = Warning.objects.get(rule=small)
    assert WarningEvent.objects.filter(warning=inhibited, kind="inhibited").exists()
    assert not WarningEvent.objects.filter(warning=inhibited, kind="notified").exists()
    assert Warning.objects.get(rule=big).level == 3

    Silence.objects.create(rule=big, comment="计划内网络割接", starts_at=MORNING, ends_at=MORNING + timedelta(days=3))
    with time_machine.travel(MORNING + timedelta(days=1), tick=False):
        for _ in range(3):
            register(org.agent, category_id=org.leaf.pk)
    silenced = Warning.objects.filter(rule=big).latest("raised_at")
    assert silenced.silenced and WarningEvent.objects.filter(warning=silenced, kind="silenced").exists()


def test_escalated_complaints_count_once_each_in_the_month(org):
    rule = make_rule(
        code="esc-month",
        measure="escalated",
        window_kind="calendar_month",
        crisis=True,
        levels=[{"level": 3, "at": 2, "notify": []}],
    )
    with time_machine.travel(MORNING, tick=False):
        a = register(org.agent, category_id=org.leaf.pk)
        b = register(org.agent, category_id=org.leaf.pk)
        for level in (1, 2):
            stage_escalated.send(sender=None, stage=None, complaint=a, level=level, now=MORNING)
        assert not Warning.objects.exists()
        stage_escalated.send(sender=None, stage=None, complaint=b, level=1, now=MORNING)
    warning = Warning.objects.get(rule=rule)
    assert (warning.level, warning.count) == (3, 2)


def test_complaints_outside_the_rule_scope_do_not_count(org):
    make_rule(channel="weibo")
    with time_machine.travel(MORNING, tick=False):
        for _ in range(5):
            register(org.agent, category_id=org.leaf.pk)
    assert not WarningCounter.objects.exists()


def test_a_silence_longer_than_thirty_days_or_ending_first_is_refused(org):
    for ends in (MORNING - timedelta(hours=1), MORNING + timedelta(days=31)):
        with pytest.raises(ValidationError):
            Silence(comment="割接", starts_at=MORNING, ends_at=ends).full_clean()
    Silence(comment="割接", starts_at=MORNING, ends_at=MORNING + timedelta(days=2)).full_clean()
