"""Deadlines across National Day 2025 and Spring Festival 2026 on the `cn` calendar.

National Day 2025: 1–8 Oct off (6 Oct is Mid-autumn), Sun 28 Sep and Sat 11 Oct are make-up
working days. Spring Festival 2026: Sun 15 – Mon 23 Feb off, Sat 14 Feb and Sat 28 Feb are
make-up working days. Business hours 09:00–12:00 and 13:30–18:00, Mon–Fri.
"""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from kuaixiang.sla.worktime import DayKind
from tests.sla.conftest import build_kernel, eod, sh


class TestNationalDay2025:
    def test_the_package_knows_the_holiday_and_both_make_up_days(self, cn):
        assert [cn.day(sh(2025, 10, d).date()).kind for d in range(1, 9)] == [DayKind.HOLIDAY] * 8
        assert cn.day(sh(2025, 9, 28).date()).kind == DayKind.MAKEUP
        assert cn.day(sh(2025, 10, 11).date()).kind == DayKind.MAKEUP
        assert cn.day(sh(2025, 10, 12).date()).kind == DayKind.WEEKEND

    @pytest.mark.parametrize(
        ("start", "days", "due"),
        [
            (sh(2025, 9, 30, 17), 1, eod(2025, 10, 9)),  # the whole holiday is skipped
            (sh(2025, 9, 30, 17), 3, eod(2025, 10, 11)),  # Sat 11 Oct is a make-up working day
            (sh(2025, 9, 30, 17), 5, eod(2025, 10, 14)),
            (sh(2025, 9, 26, 10), 1, eod(2025, 9, 28)),  # Fri -> Sun 28 Sep, a make-up day
            (sh(2025, 9, 27, 10), 1, eod(2025, 9, 28)),  # received on a Saturday
            (sh(2025, 9, 28, 10), 1, eod(2025, 9, 29)),  # received on the make-up Sunday
            (sh(2025, 10, 3, 10), 1, eod(2025, 10, 9)),  # received during the holiday
            (sh(2025, 10, 8, 23, 59), 2, eod(2025, 10, 10)),
        ],
    )
    def test_working_days_skip_the_holiday_and_count_make_up_days(self, cn, start, days, due):
        assert cn.add(start, days, "working_days") == due

    def test_working_hours_resume_after_the_holiday(self, cn):
        # 17:00–18:00 on 30 Sep, then 09:00–12:00 on 9 Oct
        assert cn.add(sh(2025, 9, 30, 17), 4, "working_hours") == sh(2025, 10, 9, 12)
        assert cn.add(sh(2025, 9, 30, 17), 5, "working_hours") == sh(2025, 10, 9, 14, 30)

    def test_a_make_up_weekend_day_has_the_hours_of_a_normal_weekday(self, cn):
        assert cn.add(sh(2025, 9, 27, 10), 2, "working_hours") == sh(2025, 9, 28, 11)
        assert cn.add(sh(2025, 10, 10, 17), 2, "working_hours") == sh(2025, 10, 11, 10)

    def test_natural_days_end_at_midnight_minus_one_second_and_roll_only_when_asked(self, cn):
        start = sh(2025, 9, 30, 10)
        assert cn.add(start, 7, "natural_days") == eod(2025, 10, 7)
        assert cn.add(start, 7, "natural_days", holiday_roll=True) == eod(2025, 10, 9)
        assert cn.add(sh(2025, 9, 26, 10), 5, "natural_days", holiday_roll=True) == eod(2025, 10, 9)

    def test_holiday_roll_leaves_an_ordinary_weekend_alone(self, cn):
        assert cn.add(sh(2025, 10, 13, 10), 5, "natural_days", holiday_roll=True) == eod(2025, 10, 18)

    def test_holiday_roll_does_not_move_an_end_date_on_a_working_day(self, cn):
        assert cn.add(sh(2025, 9, 20, 10), 8, "natural_days", holiday_roll=True) == eod(2025, 9, 28)

    def test_clock_units_never_skip_holidays(self, cn):
        assert cn.add(sh(2025, 9, 30, 17), 24, "clock_hours") == sh(2025, 10, 1, 17)
        assert cn.add(sh(2025, 9, 30, 23, 30), 90, "clock_minutes") == sh(2025, 10, 1, 1)

    def test_elapsed_working_time_ignores_the_holiday(self, cn):
        assert cn.elapsed(sh(2025, 9, 30, 17), sh(2025, 10, 9, 10)) == timedelta(hours=2)
        assert cn.elapsed(sh(2025, 9, 30, 17), sh(2025, 10, 9, 10), clock=True) == timedelta(days=8, hours=17)


class TestSpringFestival2026:
    def test_the_package_knows_the_holiday_and_both_make_up_saturdays(self, cn):
        off = [sh(2026, 2, d).date() for d in range(15, 24)]
        assert all(cn.day(d).kind == DayKind.HOLIDAY for d in off)
        assert cn.day(sh(2026, 2, 14).date()).kind == DayKind.MAKEUP
        assert cn.day(sh(2026, 2, 28).date()).kind == DayKind.MAKEUP
        assert cn.day(sh(2026, 2, 24).date()).kind == DayKind.WORKDAY
        assert cn.day(sh(2026, 2, 17).date()).name == "Spring Festival"  # the raw package name

    @pytest.mark.parametrize(
        ("start", "days", "due"),
        [
            (sh(2026, 2, 13, 16), 1, eod(2026, 2, 14)),
            (sh(2026, 2, 14, 17), 1, eod(2026, 2, 24)),
            (sh(2026, 2, 14, 17), 5, eod(2026, 2, 28)),  # Tue–Fri, then the make-up Saturday
            (sh(2026, 2, 14, 17), 6, eod(2026, 3, 2)),
        ],
    )
    def test_working_days(self, cn, start, days, due):
        assert cn.add(start, days, "working_days") == due

    def test_working_hours_run_through_the_make_up_saturday_then_jump_the_holiday(self, cn):
        assert cn.add(sh(2026, 2, 13, 17), 8, "working_hours") == sh(2026, 2, 14, 17, 30)
        assert cn.add(sh(2026, 2, 14, 17), 2, "working_hours") == sh(2026, 2, 24, 10)

    def test_natural_days_roll_past_the_holiday(self, cn):
        assert cn.add(sh(2026, 2, 10, 9), 7, "natural_days") == eod(2026, 2, 17)
        assert cn.add(sh(2026, 2, 10, 9), 7, "natural_days", holiday_roll=True) == eod(2026, 2, 24)


class TestReceiptOutsideBusinessHours:
    def test_after_hours_starts_at_the_next_opening(self, cn):
        assert cn.add(sh(2025, 10, 13, 19, 30), 1, "working_hours") == sh(2025, 10, 14, 10)

    def test_before_opening_starts_at_the_opening(self, cn):
        assert cn.add(sh(2025, 10, 14, 7, 45), 1, "working_hours") == sh(2025, 10, 14, 10)

    def test_friday_evening_runs_into_monday(self, cn):
        friday = sh(2025, 10, 17, 20)
        assert cn.add(friday, 4, "working_hours") == sh(2025, 10, 20, 14, 30)
        assert cn.add(friday, 1, "working_days") == eod(2025, 10, 20)
        assert cn.add(friday, 30, "working_minutes") == sh(2025, 10, 20, 9, 30)

    def test_the_start_day_is_not_counted_even_when_received_at_opening(self, cn):
        assert cn.add(sh(2025, 10, 14, 9), 1, "working_days") == eod(2025, 10, 15)


class TestLunchBreak:
    def test_time_across_lunch_resumes_at_13_30(self, cn):
        assert cn.add(sh(2025, 10, 14, 11, 30), 1, "working_hours") == sh(2025, 10, 14, 14)

    def test_received_during_lunch(self, cn):
        assert cn.add(sh(2025, 10, 14, 12, 45), 30, "working_minutes") == sh(2025, 10, 14, 14)

    def test_a_deadline_may_fall_exactly_at_closing(self, cn):
        assert cn.add(sh(2025, 10, 14, 11), 1, "working_hours") == sh(2025, 10, 14, 12)
        assert cn.add(sh(2025, 10, 14, 17), 1, "working_hours") == sh(2025, 10, 14, 18)

    def test_a_full_day_is_seven_and_a_half_hours(self, cn):
        assert cn.elapsed(sh(2025, 10, 14, 0), sh(2025, 10, 15, 0)) == timedelta(hours=7, minutes=30)

    def test_several_intervals_and_custom_make_up_hours(self):
        hours = {
            "mon": [["08:30", "12:00"], ["13:30", "17:30"]],
            "sat": [["10:00", "12:00"]],
            "makeup": [["10:00", "16:00"]],
        }
        cal = build_kernel(hours)
        assert cal.add(sh(2025, 10, 13, 17), 2, "working_hours") == sh(2025, 10, 18, 11, 30)  # Mon 0.5 h, Sat 1.5 h
        assert cal.add(sh(2025, 9, 28, 9), 6, "working_hours") == sh(2025, 9, 28, 16)  # make-up Sunday


class TestZones:
    def test_any_input_zone_gives_a_shanghai_result(self, cn):
        due = cn.add(datetime(2025, 9, 30, 9, tzinfo=UTC), 1, "working_days")
        assert due == eod(2025, 10, 9)
        assert due.utcoffset() == timedelta(hours=8)
        assert due.isoformat() == "2025-10-09T23:59:59+08:00"

    def test_the_local_date_decides_the_start_day(self, cn):
        # 16:30 UTC on Tue 30 Sep is already 00:30 on Wed 1 Oct in Shanghai
        start = datetime(2025, 9, 30, 16, 30, tzinfo=UTC)
        assert cn.add(start, 1, "natural_days") == eod(2025, 10, 2)
        new_york = timezone(timedelta(hours=-4))
        assert cn.add(datetime(2025, 9, 30, 5, tzinfo=new_york), 1, "working_hours") == sh(2025, 9, 30, 18)
