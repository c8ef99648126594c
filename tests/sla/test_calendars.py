"""Building the kernel calendar from the package and the override table; caching."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from kuaixiang.errors import DomainError, InvalidInput, NotFound
from kuaixiang.sla import calendars
from kuaixiang.sla.calendars import calendar_days, calendar_get, day_reason, deadline_compute, package_years
from kuaixiang.sla.models import Calendar, CalendarDay
from kuaixiang.sla.worktime import CalendarYearUnknown, DayKind
from tests.sla.conftest import eod, sh

pytestmark = pytest.mark.django_db


@pytest.fixture
def cn_row() -> Calendar:
    return Calendar.objects.get(code="cn")


def test_the_default_calendar_is_created_by_migration(cn_row):
    assert cn_row.timezone == "Asia/Shanghai"
    assert cn_row.use_package
    assert cn_row.business_hours["mon"] == [["09:00", "12:00"], ["13:30", "18:00"]]
    assert set(cn_row.business_hours) == {"mon", "tue", "wed", "thu", "fri"}
    kernel = calendar_get()
    assert kernel.code == "cn"
    assert package_years() <= kernel.years
    assert {2025, 2026} <= kernel.years


def test_the_built_calendar_is_cached_and_costs_one_query(django_assert_num_queries):
    first = calendar_get("cn")
    with django_assert_num_queries(1):
        assert calendar_get("cn") is first


def test_an_unknown_code_is_not_found():
    with pytest.raises(NotFound) as caught:
        calendar_get("nope")
    assert caught.value.code == "calendar_not_found"


def test_an_override_closure_wins_over_the_package_and_invalidates_the_cache(cn_row):
    assert deadline_compute(start=sh(2025, 10, 10, 10), amount=2, unit="working_days") == eod(2025, 10, 13)
    CalendarDay.objects.create(calendar=cn_row, date=date(2025, 10, 13), kind="closure", name="系统迁移停业")
    assert deadline_compute(start=sh(2025, 10, 10, 10), amount=2, unit="working_days") == eod(2025, 10, 14)
    info = calendar_get().day(date(2025, 10, 13))
    assert (info.kind, day_reason(info)) == (DayKind.CLOSURE, "系统迁移停业")


def test_an_override_work_day_turns_a_package_holiday_into_a_working_day(cn_row):
    CalendarDay.objects.create(calendar=cn_row, date=date(2025, 10, 8), kind="workday", name="本地调整上班")
    assert deadline_compute(start=sh(2025, 9, 30, 17), amount=1, unit="working_days") == eod(2025, 10, 8)
    assert deadline_compute(start=sh(2025, 9, 30, 17), amount=4, unit="working_hours") == sh(2025, 10, 8, 12)


def test_an_override_holiday_on_a_package_make_up_day(cn_row):
    day = CalendarDay.objects.create(calendar=cn_row, date=date(2025, 9, 28), kind="holiday", name="本地不调休")
    assert deadline_compute(start=sh(2025, 9, 26, 10), amount=1, unit="working_days") == eod(2025, 9, 29)
    day.delete()
    assert deadline_compute(start=sh(2025, 9, 26, 10), amount=1, unit="working_days") == eod(2025, 9, 28)


def test_a_year_unknown_to_the_package_becomes_usable_once_entered_and_listed(cn_row):
    year = max(package_years()) + 1
    with pytest.raises(DomainError) as caught:
        deadline_compute(start=sh(year, 1, 4, 10), amount=1, unit="working_days")
    assert (caught.value.code, caught.value.status, caught.value.details) == (
        "calendar_year_unknown",
        422,
        {"year": year},
    )
    CalendarDay.objects.create(calendar=cn_row, date=date(year, 1, 5), kind="holiday", name="假想节日")
    with pytest.raises(DomainError):  # rows alone do not make a year known: it must be listed
        deadline_compute(start=sh(year, 1, 4, 10), amount=1, unit="working_days")
    cn_row.covered_years = [year]
    cn_row.save()
    assert deadline_compute(start=sh(year, 1, 4, 10), amount=1, unit="working_days") == eod(year, 1, 6)


def test_a_calendar_without_the_package_knows_only_its_listed_years():
    Calendar.objects.create(code="local", name="本地日历", use_package=False, covered_years=[2025])
    kernel = calendar_get("local")
    assert kernel.years == frozenset({2025})
    assert kernel.day(date(2025, 10, 1)).kind == DayKind.WORKDAY  # no package: only its own rows
    with pytest.raises(CalendarYearUnknown):
        kernel.day(date(2024, 10, 1))


def test_changing_business_hours_takes_effect_at_once(cn_row):
    assert deadline_compute(start=sh(2025, 10, 13, 17), amount=1, unit="working_hours") == sh(2025, 10, 13, 18)
    cn_row.business_hours = {day: [["08:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
    cn_row.save()
    assert deadline_compute(start=sh(2025, 10, 13, 17), amount=1, unit="working_hours") == sh(2025, 10, 14, 9)


def test_another_process_sees_a_change_through_the_revision(cn_row):
    before = calendar_get()
    CalendarDay.objects.create(calendar=cn_row, date=date(2025, 10, 13), kind="closure", name="停业")
    calendars._cache["cn"] = (Calendar.objects.get(code="cn").revision, before)  # a stale value with the new key
    cn_row.refresh_from_db()
    cn_row.touch()  # what any later change does in whichever process makes it
    assert calendar_get().day(date(2025, 10, 13)).kind == DayKind.CLOSURE


def test_the_package_holiday_names_are_shown_in_chinese():
    days = calendar_days(first=date(2025, 9, 27), last=date(2025, 10, 11))
    reasons = {d.day.isoformat(): day_reason(d) for d in days}
    assert reasons["2025-09-27"] == "周末"
    assert reasons["2025-09-28"] == "调休上班（国庆节）"
    assert reasons["2025-09-29"] == "工作日"
    assert reasons["2025-10-01"] == "国庆节"
    assert reasons["2025-10-06"] == "中秋节"
    assert reasons["2025-10-11"] == "调休上班（国庆节）"


def test_deadline_compute_refuses_bad_input():
    with pytest.raises(InvalidInput) as caught:
        deadline_compute(start=sh(2025, 10, 13, 9).replace(tzinfo=None), amount=1, unit="working_days")
    assert caught.value.code == "naive_datetime"
    with pytest.raises(InvalidInput) as caught:
        deadline_compute(start=sh(2025, 10, 13, 9), amount=1, unit="weeks")
    assert caught.value.code == "invalid_unit"
    with pytest.raises(InvalidInput) as caught:
        deadline_compute(start=sh(2025, 10, 13, 9), amount=1.5, unit="natural_days")
    assert caught.value.code == "amount_not_whole"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("business_hours", {"mon": [["18:00", "09:00"]]}),
        ("business_hours", {"monday": []}),
        ("covered_years", ["2027"]),
        ("covered_years", 2027),
    ],
)
def test_the_admin_form_validates_hours_and_years(cn_row, field, value):
    setattr(cn_row, field, value)
    with pytest.raises(ValidationError) as caught:
        cn_row.full_clean()
    assert field in caught.value.message_dict
