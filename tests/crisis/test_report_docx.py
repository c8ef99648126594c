"""The special report (专题报告) as a Word file: it opens and holds every section."""

import io
from datetime import timedelta

import pytest
import time_machine
from docx import Document

from kuaixiang.crisis import reports, scripts, services
from kuaixiang.errors import Forbidden
from tests.crisis.conftest import local
from tests.personas import register

SECTIONS = [
    "一、事件概况与原因",
    "二、影响范围",
    "三、事件经过",
    "四、处置情况",
    "五、投诉量逐小时变化",
    "六、整改措施",
    "七、责任认定",
    "八、时限执行情况",
]


@pytest.fixture
def closed(crisis_org):
    org = crisis_org
    with time_machine.travel(local(2025, 9, 30, 10, 0), tick=False):
        incident = services.incident_open(
            playbook="telecom_crisis", title="计费错误", actor=org.hq_manager, match_category=org.category
        )
    for minutes in (5, 70, 75):
        with time_machine.travel(local(2025, 9, 30, 10, 0) + timedelta(minutes=minutes), tick=False):
            register(org.agent, category_id=org.leaf.pk)
    with time_machine.travel(local(2025, 9, 30, 11, 30), tick=False):
        scripts.script_publish(
            incident_id=incident.pk, actor=org.leader, content="计费系统升级导致重复扣费，已全额退还。"
        )
        services.incident_report_update(
            incident_id=incident.pk,
            actor=org.hq_manager,
            cause="升级脚本缺陷",
            measures="上线前双人复核",
            responsibility="业务支撑部",
        )
    with time_machine.travel(local(2025, 9, 30, 15, 0), tick=False):
        services.incident_close(incident_id=incident.pk, actor=org.hq_manager)
    return incident


def test_the_report_opens_and_has_its_sections_chart_and_deadline_verdicts(crisis_org, closed):
    with time_machine.travel(local(2025, 10, 9, 10, 0), tick=False):
        name, content = reports.special_report_docx(incident_id=closed.pk, actor=crisis_org.hq_manager)
    assert name.endswith(".docx")
    doc = Document(io.BytesIO(content))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert headings == SECTIONS
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "升级脚本缺陷" in text and "上线前双人复核" in text and "业务支撑部" in text
    assert "计费系统升级导致重复扣费" in text
    assert len(doc.inline_shapes) == 1  # the hourly chart
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in doc.tables]
    hourly = next(t for t in tables if t[0] == ["时段", "新增投诉", "较前一小时", "变动幅度"])
    assert [row[1] for row in hourly[1:]] == ["1", "2", "0", "0", "0", "0"]  # 10:00 … 15:00
    verdicts = {row[0]: row[3] for row in next(t for t in tables if t[0][0] == "步骤")[1:]}
    deadlines = {task.key: verdicts[task.title] for task in closed.tasks.all()}
    assert deadlines["initial_report"] == "按时完成"
    assert deadlines["script"] == "按时完成"  # published at 11:30, due 12:00
    assert deadlines["fix"] == "未按时"  # never marked done: missed
    assert deadlines["special_report"] == "按时完成"  # generating the report finished the step in time
    special = closed.tasks.get(key="special_report")
    assert special.state == "done" and special.done_at <= special.due_at


def test_only_report_roles_may_generate_it(crisis_org, closed):
    with pytest.raises(Forbidden):
        reports.special_report_docx(incident_id=closed.pk, actor=crisis_org.agent)
