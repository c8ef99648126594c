"""8D reports: shared by several complaints, default due dates on the working-day calendar, closing rules."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from kuaixiang.errors import Conflict, InvalidInput, NotFound
from kuaixiang.remedies import capa
from tests.personas import register

SH = ZoneInfo("Asia/Shanghai")


def test_one_8d_answers_several_complaints(matrix):
    first, second = register(matrix.agent), register(matrix.agent)
    row = capa.eightd_open(actor=matrix.manager, complaint_ids=[first.pk, second.pk], title="同批次灯珠失效")
    assert set(row.complaints.all()) == {first, second}
    assert row.number.startswith("8D") and row.champion == matrix.manager
    assert list(row.team.all()) == [matrix.manager]
    again = capa.eightd_open(actor=matrix.manager, complaint_ids=[first.pk], title="第二份")
    assert again.number != row.number
    assert set(first.eightds.all()) == {row, again}


def test_default_due_dates_count_working_days(matrix, complaint):
    # Friday 2025-09-26 10:00: +1 working day is Monday 29th; +7 crosses the National Day
    # holiday (Oct 1–8, with make-up Sunday 28th Sep and Saturday 11th Oct).
    friday = datetime(2025, 9, 26, 10, 0, tzinfo=SH)
    with time_machine.travel(friday, tick=False):
        row = capa.eightd_open(actor=matrix.manager, complaint_ids=[complaint.pk], title="t")
        temporary = capa.capa_action_add(
            actor=matrix.manager, eightd_id=row.pk, kind="temporary", description="隔离", owner_id=matrix.head.pk
        )
        permanent = capa.capa_action_add(
            actor=matrix.manager, eightd_id=row.pk, kind="corrective", description="改工艺", owner_id=matrix.head.pk
        )
    from kuaixiang.sla.calendars import calendar_get

    cn = calendar_get("cn")
    assert temporary.due_at == cn.add(friday, 1, "working_days")
    assert permanent.due_at == cn.add(friday, 7, "working_days")
    assert temporary.due_at.astimezone(SH).date().isoformat() == "2025-09-28"  # make-up working Sunday
    assert permanent.due_at.astimezone(SH).date() > datetime(2025, 10, 8, tzinfo=SH).date()


def test_an_explicit_due_date_wins(matrix, complaint):
    row = capa.eightd_open(actor=matrix.manager, complaint_ids=[complaint.pk], title="t")
    due = datetime(2030, 1, 2, 17, 0, tzinfo=SH)
    action = capa.capa_action_add(
        actor=matrix.manager,
        eightd_id=row.pk,
        kind="preventive",
        description="培训",
        owner_id=matrix.head.pk,
        due_at=due,
    )
    assert action.due_at == due


def test_closing_needs_root_cause_actions_and_summary(matrix, complaint):
    row = capa.eightd_open(actor=matrix.manager, complaint_ids=[complaint.pk], title="t")
    with pytest.raises(Conflict) as exc:
        capa.eightd_close(actor=matrix.manager, eightd_id=row.pk)
    assert exc.value.code == "eightd_incomplete"
    capa.eightd_update(
        actor=matrix.manager,
        eightd_id=row.pk,
        data={"d4_root_cause": "温度", "d5_corrective": "改参数", "d8_closure": "客户满意", "stock_checked": 10},
    )
    action = capa.capa_action_add(
        actor=matrix.manager, eightd_id=row.pk, kind="temporary", description="隔离", owner_id=matrix.head.pk
    )
    with pytest.raises(Conflict) as exc:
        capa.eightd_close(actor=matrix.manager, eightd_id=row.pk)
    assert exc.value.code == "capa_open"
    capa.capa_action_complete(actor=matrix.manager, action_id=action.pk, verified=True, verification="复测合格")
    closed = capa.eightd_close(actor=matrix.manager, eightd_id=row.pk)
    assert closed.state == "closed"
    with pytest.raises(Conflict):
        capa.eightd_update(actor=matrix.manager, eightd_id=row.pk, data={"d2_problem": "x"})


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda m, c: capa.eightd_open(actor=m.manager, complaint_ids=[], title="t"), "invalid_complaint"),
        (lambda m, c: capa.eightd_open(actor=m.manager, complaint_ids=["x"], title="t"), "invalid_complaint"),
        (lambda m, c: capa.eightd_open(actor=m.manager, complaint_ids=[c.pk], title=" "), "field_required"),
        (lambda m, c: capa.eightd_open(actor=m.outside_agent, complaint_ids=[c.pk], title="t"), "invalid_complaint"),
    ],
)
def test_bad_8d_input_is_refused(matrix, complaint, call, code):
    with pytest.raises(InvalidInput) as exc:
        call(matrix, complaint)
    assert exc.value.code == code


def test_bad_actions_are_refused(matrix, complaint):
    row = capa.eightd_open(actor=matrix.manager, complaint_ids=[complaint.pk], title="t")
    with pytest.raises(InvalidInput):
        capa.capa_action_add(
            actor=matrix.manager, eightd_id=row.pk, kind="magic", description="x", owner_id=matrix.head.pk
        )
    with pytest.raises(InvalidInput):
        capa.capa_action_add(actor=matrix.manager, eightd_id=row.pk, kind="temporary", description="x", owner_id=999999)
    with pytest.raises(InvalidInput):
        capa.eightd_update(actor=matrix.manager, eightd_id=row.pk, data={"stock_checked": 1, "stock_isolated": 2})
    with pytest.raises(NotFound):
        capa.eightd_get(matrix.outside_agent, row.pk)
