"""End to end: a surge → a level-3 warning → an incident under the seed-000 playbook → tasks due at the
right instants (the special report 3 working days after closing, over National Day) → the script shown
to agents → hourly counts → the special report opens with its sections."""

import csv
import io
from datetime import timedelta

import time_machine
from django.core.management import call_command
from django.test import Client
from docx import Document

from kuaixiang.alerts.models import Warning
from kuaixiang.complaints.intake import parse_complaint_input
from kuaixiang.complaints.services import complaint_register_bulk
from kuaixiang.crisis import reports, scripts, selectors, services, sweeps
from kuaixiang.crisis.models import Incident, IncidentComplaint
from kuaixiang.notify.models import Notification
from kuaixiang.rulepacks import rulepack_load
from kuaixiang.triage.models import Category
from tests.crisis.conftest import local
from tests.crisis.test_report_docx import SECTIONS
from tests.personas import PASSWORD, register

SCRIPT = "因 4G 基站传输故障，部分区域信号弱，已于今日 14:00 修复；受影响用户赠送 10GB 流量。"


def _surge(org, category, count, start):
    items = [
        parse_complaint_input(
            {
                "channel": "phone",
                "complainant_phone": f"1381234{i:04d}",
                "description": f"家里 4G 信号很弱，打不了电话 {i}",
                "category_id": category.pk,
                "received_at": (start + timedelta(seconds=20 * i)).isoformat(),
            }
        )
        for i in range(count)
    ]
    return complaint_register_bulk(actor=org.agent, items=items)


def test_a_surge_opens_the_crisis_incident_and_runs_the_playbook(org, django_capture_on_commit_callbacks):
    rulepack_load("telecom")
    weak = Category.objects.get(code="net-mob-cov-4g-weak")
    with time_machine.travel(local(2025, 9, 30, 10, 0), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            _surge(org, weak, 99, local(2025, 9, 30, 9, 0))
        assert not Incident.objects.exists()  # level 2 at 60: not a crisis yet
    with time_machine.travel(local(2025, 9, 30, 10, 5), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            _surge(org, weak, 1, local(2025, 9, 30, 10, 5))
    warning = Warning.objects.get(rule__code="cat5-day", sandbox=False)
    assert warning.level == 3
    incident = Incident.objects.get()
    assert (incident.playbook.code, incident.severity, incident.source) == ("telecom_crisis", "red", "warning")
    assert (incident.warning_id, incident.match_category, incident.activated_at) == (
        warning.pk,
        weak,
        local(2025, 9, 30, 10, 5),
    )
    assert incident.linked_count == IncidentComplaint.objects.filter(incident=incident).count() > 0
    tasks = {t.key: t for t in incident.tasks.all()}
    assert tasks["initial_report"].state == "done"
    assert tasks["fix"].due_at == tasks["script"].due_at == local(2025, 9, 30, 12, 5)
    report = Notification.objects.filter(subject__contains="危机事件初报", channel="inbox")
    assert report.exists() and "投诉量：已关联" in report.first().body

    # PR drafts, the leader approves and publishes; an agent sees it on a linked complaint and on a new one.
    with time_machine.travel(local(2025, 9, 30, 11, 0), tick=False):
        draft = scripts.script_draft(incident_id=incident.pk, actor=org.pr, content=SCRIPT)
        scripts.script_approve(incident_id=incident.pk, actor=org.leader, number=draft.number)
        scripts.script_publish(incident_id=incident.pk, actor=org.leader)
        newcomer = register(org.agent, category_id=weak.pk)
    assert IncidentComplaint.objects.filter(incident=incident, complaint=newcomer).exists()
    client = Client()
    client.login(username="agent", password=PASSWORD)
    assert SCRIPT in client.get(f"/complaints/{newcomer.pk}/").content.decode()

    # Hourly counts: 09:00–09:59 holds the surge's first 99 (180 per hour at one per 20 s → all in 09:xx),
    # 10:xx the 100th, 11:xx the newcomer.
    figures = selectors.hourly_figures(incident, now=local(2025, 9, 30, 11, 30))
    linked_before = IncidentComplaint.objects.filter(incident=incident, received_at__lt=local(2025, 9, 30, 10)).count()
    assert [(f.start, f.count) for f in figures] == [(local(2025, 9, 30, 10), 1), (local(2025, 9, 30, 11), 1)]
    assert figures[0].change == 1 - linked_before
    sweeps.hours_log(now=local(2025, 9, 30, 12, 1))
    assert incident.events.filter(kind="hourly").count() == 2

    # Close on 30 September: the special report is due at the end of the third working day after it.
    with time_machine.travel(local(2025, 9, 30, 17, 0), tick=False):
        services.incident_close(incident_id=incident.pk, actor=org.hq_manager)
    assert incident.tasks.get(key="special_report").due_at == local(2025, 10, 11, 23, 59, 59)
    with time_machine.travel(local(2025, 10, 10, 9, 0), tick=False):
        _, content = reports.special_report_docx(incident_id=incident.pk, actor=org.hq_manager)
    doc = Document(io.BytesIO(content))
    assert [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")] == SECTIONS
    assert SCRIPT in "\n".join(p.text for p in doc.paragraphs)


def test_a_replayed_surge_opens_a_sandbox_incident_that_stays_in_the_sandbox(
    db, tmp_path, django_capture_on_commit_callbacks
):
    rulepack_load("telecom")
    path = tmp_path / "surge.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["received_at", "channel", "category", "text", "phone"])
        for i in range(100):
            writer.writerow(
                [
                    f"2026-03-02T09:{i // 2:02d}:{(i % 2) * 30:02d}",
                    "phone",
                    "手机/信号/4G/室内/无信号",
                    f"室内无信号{i}",
                    "",
                ]
            )
    with django_capture_on_commit_callbacks(execute=True):
        call_command("replay", "--csv", str(path), "--instant", "--keep", stdout=io.StringIO(), stderr=io.StringIO())
    incident = Incident.objects.get()
    assert incident.sandbox and incident.unit.code == "sandbox"
    assert incident.playbook.code == "telecom_crisis"
    people = set(incident.participants.values_list("user__username", flat=True))
    assert people and all(name.startswith("sandbox-") for name in people)
    sent = Notification.objects.filter(link=f"/crisis/{incident.pk}/")
    assert sent.exists() and set(sent.values_list("channel", flat=True)) == {"inbox"}
