"""The kernel's contract: pauses, unknown years, closures, amounts of zero and bad input."""

from datetime import date, datetime, timedelta

import pytest

from kuaixiang.sla.worktime import (
    CalendarYearUnknown,
    DayKind,
    Unit,
    add,
    elapsed,
    format_week_hours,
    parse_week_hours,
)
from tests.sla.conftest import CN_HOURS, build_kernel, eod, sh

MONDAY = (2025, 10, 13)


def at(hour: int, minute: int = 0, day: tuple[int, int, int] = MONDAY) -> datetime:
    return sh(*day, hour, minute)


class TestPauses:
    def test_a_pause_inside_business_hours_stops_the_clock(self, cn):
        assert cn.elapsed(at(9), at(18)) == timedelta(hours=7, minutes=30)
        assert cn.elapsed(at(9), at(18), pauses=[(at(10), at(11))]) == timedelta(hours=6, minutes=30)

    def test_only_the_working_part_of_a_pause_counts(self, cn):
        # 11:30–14:00 covers the lunch break: 30 min before and 30 min after
        assert cn.elapsed(at(9), at(18), pauses=[(at(11, 30), at(14))]) == timedelta(hours=6, minutes=30)

    def test_overlapping_pauses_are_merged(self, cn):
        pauses = [(at(10), at(11)), (at(10, 30), at(11, 30)), (at(10, 45), at(11))]
        assert cn.elapsed(at(9), at(18), pauses=pauses) == timedelta(hours=6)

    def test_a_pause_is_clipped_to_the_window_and_may_still_be_open(self, cn):
        assert cn.elapsed(at(10), at(18), pauses=[(at(8), at(11))]) == timedelta(hours=5, minutes=30)
        assert cn.elapsed(at(9), at(18), pauses=[(at(16), None)]) == timedelta(hours=5, minutes=30)
        assert cn.elapsed(at(9), at(12), pauses=[(at(13), at(14))]) == timedelta(hours=3)

    def test_a_pause_over_a_weekend_costs_nothing(self, cn):
        friday, monday = (2025, 10, 17), (2025, 10, 20)
        pause = [(at(18, day=friday), at(9, day=monday))]
        assert cn.elapsed(at(17, day=friday), at(10, day=monday), pauses=pause) == timedelta(hours=2)

    def test_clock_elapsed_subtracts_the_whole_pause(self, cn):
        assert cn.elapsed(at(9), at(18), pauses=[(at(11, 30), at(14))], clock=True) == timedelta(hours=6, minutes=30)

    def test_remaining_time_before_a_deadline_is_negative_once_overdue(self, cn):
        due = at(14)
        assert cn.elapsed(at(11), due) == timedelta(hours=1, minutes=30)
        assert cn.elapsed(at(15), due) == -timedelta(hours=1)

    def test_a_pause_ending_before_it_starts_is_refused(self, cn):
        with pytest.raises(ValueError):
            cn.elapsed(at(9), at(18), pauses=[(at(11), at(10))])

    def test_module_level_functions_match_the_methods(self, cn):
        assert add(cn, at(9), 2, Unit.WORKING_HOURS) == cn.add(at(9), 2, "working_hours")
        assert elapsed(cn, at(9), at(18), pauses=[(at(10), at(11))]) == timedelta(hours=6, minutes=30)


class TestUnknownYears:
    def test_working_days_into_an_unknown_year_raise_with_the_year(self, cn):
        last_year = max(cn.years)
        with pytest.raises(CalendarYearUnknown) as caught:
            cn.add(sh(last_year, 12, 28, 10), 5, "working_days")
        assert caught.value.year == last_year + 1

    @pytest.mark.parametrize("unit", ["working_hours", "working_minutes", "working_days"])
    def test_a_start_in_an_unknown_year_raises(self, cn, unit):
        with pytest.raises(CalendarYearUnknown) as caught:
            cn.add(sh(2030, 3, 2, 10), 1, unit)
        assert caught.value.year == 2030
        with pytest.raises(CalendarYearUnknown) as caught:
            cn.add(sh(2003, 3, 3, 10), 1, unit)
        assert caught.value.year == 2003

    def test_working_hours_running_past_the_last_known_year(self, cn):
        with pytest.raises(CalendarYearUnknown) as caught:
            cn.add(sh(max(cn.years), 12, 31, 17), 2, "working_hours")
        assert caught.value.year == max(cn.years) + 1

    def test_elapsed_over_an_unknown_year_raises(self, cn):
        with pytest.raises(CalendarYearUnknown):
            cn.elapsed(sh(2026, 12, 1, 9), sh(2027, 1, 5, 9))

    def test_a_gap_between_covered_years_is_not_jumped(self):
        cal = build_kernel(years=[2024, 2026])
        with pytest.raises(CalendarYearUnknown) as caught:
            cal.add(sh(2024, 12, 31, 10), 2, "working_days")
        assert caught.value.year == 2025
        with pytest.raises(CalendarYearUnknown) as caught:
            cal.add(sh(2024, 12, 31, 17), 3, "working_hours")
        assert caught.value.year == 2025
        assert cal.add(sh(2026, 1, 5, 10), 1, "working_days") == eod(2026, 1, 6)

    def test_units_that_need_no_day_data_work_in_any_year(self, cn):
        assert cn.add(sh(2030, 3, 2, 10), 3, "clock_hours") == sh(2030, 3, 2, 13)
        assert cn.add(sh(2030, 3, 2, 10), 3, "natural_days") == eod(2030, 3, 5)
        with pytest.raises(CalendarYearUnknown):
            cn.add(sh(2030, 3, 2, 10), 3, "natural_days", holiday_roll=True)

    def test_day_lookup_in_an_unknown_year_raises(self, cn):
        with pytest.raises(CalendarYearUnknown):
            cn.day(date(2031, 1, 1))
        with pytest.raises(CalendarYearUnknown):
            cn.days(date(2026, 12, 30), date(2027, 1, 2))


class TestClosuresAndOverrides:
    def test_a_one_off_closure_is_not_a_working_day(self):
        cal = build_kernel(closures={date(2025, 10, 13): "系统迁移停业"})
        assert cal.day(date(2025, 10, 13)).kind == DayKind.CLOSURE
        assert cal.add(sh(2025, 10, 10, 10), 2, "working_days") == eod(2025, 10, 14)
        assert cal.add(sh(2025, 10, 10, 17), 2, "working_hours") == sh(2025, 10, 11, 10)
        assert cal.add(sh(2025, 10, 12, 10), 1, "working_hours") == sh(2025, 10, 14, 10)

    def test_holiday_roll_does_not_apply_to_a_closure(self):
        cal = build_kernel(closures={date(2025, 10, 13): "停业"})
        assert cal.add(sh(2025, 10, 10, 10), 3, "natural_days", holiday_roll=True) == eod(2025, 10, 13)

    def test_a_make_up_day_beats_a_holiday_and_a_closure_beats_both(self):
        cal = build_kernel(makeup_days={date(2025, 10, 8): "改为上班"})  # the package also lists 8 Oct as a holiday
        assert cal.day(date(2025, 10, 8)).kind == DayKind.MAKEUP
        assert cal.add(sh(2025, 9, 30, 10), 1, "working_days") == eod(2025, 10, 8)
        cal = build_kernel(makeup_days={date(2025, 10, 8): "改为上班"}, closures={date(2025, 10, 8): "停业"})
        assert cal.day(date(2025, 10, 8)).kind == DayKind.CLOSURE

    def test_next_working_day(self, cn):
        assert cn.next_working_day(date(2025, 9, 30)) == date(2025, 10, 9)
        assert cn.is_working_day(date(2025, 9, 28))
        assert not cn.is_working_day(date(2025, 10, 8))


class TestAmounts:
    def test_zero_time_is_the_start_and_zero_days_the_end_of_the_start_day(self, cn):
        start = at(20)
        assert cn.add(start, 0, "working_hours") == start
        assert cn.add(start, 0, "clock_minutes") == start
        assert cn.add(start, 0, "working_days") == eod(*MONDAY)
        assert cn.add(start, 0, "natural_days") == eod(*MONDAY)
        late = sh(*MONDAY, 23, 59, 59, 500000)
        assert cn.add(late, 0, "natural_days") == late  # never before the start

    def test_fractional_hours_are_allowed(self, cn):
        assert cn.add(at(9), 1.5, "working_hours") == at(10, 30)
        assert cn.add(at(9), 0.5, "clock_hours") == at(9, 30)

    @pytest.mark.parametrize(
        ("amount", "unit"),
        [(-1, "working_hours"), (float("nan"), "clock_hours"), (float("inf"), "working_days"), (1.5, "working_days")],
    )
    def test_bad_amounts_are_refused(self, cn, amount, unit):
        with pytest.raises(ValueError):
            cn.add(at(9), amount, unit)

    def test_an_unknown_unit_and_a_naive_start_are_refused(self, cn):
        with pytest.raises(ValueError, match="unknown unit"):
            cn.add(at(9), 1, "fortnights")
        with pytest.raises(ValueError, match="aware"):
            cn.add(datetime(2025, 10, 13, 9), 1, "working_hours")  # noqa: DTZ001


class TestWeekHours:
    def test_round_trip(self):
        assert format_week_hours(parse_week_hours(CN_HOURS)) == CN_HOURS

    def test_a_24_hour_day_is_allowed(self):
        cal = build_kernel({day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
        assert cal.add(sh(2025, 10, 11, 23), 2, "working_hours") == sh(2025, 10, 12, 1)
        assert cal.add(sh(2025, 9, 30, 23), 2, "working_hours") == sh(2025, 10, 9, 1)  # holidays still off

    @pytest.mark.parametrize(
        "raw",
        [
            {"monday": [["09:00", "12:00"]]},
            {"mon": [["12:00", "09:00"]]},
            {"mon": [["09:00", "12:00"], ["11:00", "13:00"]]},
            {"mon": [["9h", "12:00"]]},
            {"mon": [["09:00", "24:30"]]},
            {"mon": [["09:00"]]},
            {"mon": "09:00-12:00"},
            ["mon"],
        ],
    )
    def test_malformed_hours_are_refused_in_chinese(self, raw):
        with pytest.raises(ValueError) as caught:
            parse_week_hours(raw)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in str(caught.value))


def test_a_deadline_at_24_00_is_midnight_of_the_next_day():
    cal = build_kernel({"mon": [["20:00", "24:00"]]})
    assert cal.add(sh(2025, 10, 13, 21), 3, "working_hours") == sh(2025, 10, 14, 0)


def test_clock_time_is_physical_time_across_a_daylight_saving_change(cn):
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    start = datetime(2025, 3, 30, 1, 30, tzinfo=berlin)  # the clocks jump from 02:00 to 03:00
    assert cn.add(start, 1, "clock_hours") == datetime(2025, 3, 30, 3, 30, tzinfo=berlin)
    assert cn.add(start, 1, "clock_hours") == sh(2025, 3, 30, 9, 30)
