"""The shared working-day calendar (policy R15): official years from chinese-calendar,
provisional years, the counting convention (the start day is not counted)."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from shared.calendar import (
    CalendarYear,
    WorkingCalendar,
    calendar_from_json,
    default_calendar,
    official_year,
    provisional_year,
)


def test_2026_national_day_and_mid_autumn_with_make_up_days():
    # policy R15: the official 2026 year — 中秋 9/25–9/27, 国庆 10/1–10/7, 调休 Sun 9/20 and
    # Sat 10/10 are working days
    cal = default_calendar()
    assert not cal.is_working_day(date(2026, 9, 19))  # Saturday
    assert cal.is_working_day(date(2026, 9, 20))  # Sunday, 调休 working day
    assert not cal.is_working_day(date(2026, 9, 25))  # Friday, 中秋
    assert all(not cal.is_working_day(date(2026, 10, d)) for d in range(1, 8))
    assert cal.is_working_day(date(2026, 10, 10))  # Saturday, 调休 working day
    assert not cal.is_working_day(date(2026, 10, 11))
    # Accepted Fri 9/18; counted by hand (start day not counted):
    # 9/20(调休)=1, 9/21..9/24=2..5, [9/25–9/27 off], 9/28..9/30=6..8, [10/1–10/7 off],
    # 10/8=9, 10/9=10, 10/10(调休 Sat)=11, 10/12..10/16=12..16, 10/19..10/22=17..20
    assert cal.add_working_days(date(2026, 9, 18), 20) == date(2026, 10, 22)
    assert cal.add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert cal.add_working_days(date(2026, 10, 9), 1) == date(2026, 10, 10)
    assert cal.working_days_between(date(2026, 9, 18), date(2026, 10, 22)) == 20
    assert cal.working_days_between(date(2026, 9, 30), date(2026, 10, 7)) == 0
    assert not cal.is_provisional(date(2026, 10, 22))


def test_start_day_not_counted_and_zero_and_negative():
    # policy R15: counting convention — the day of acceptance is not counted
    cal = default_calendar()
    assert cal.add_working_days(date(2026, 6, 1), 1) == date(2026, 6, 2)  # Mon → Tue
    assert cal.add_working_days(date(2026, 6, 1), 0) == date(2026, 6, 1)
    # counted from a Saturday: the next Monday is the first working day
    assert cal.add_working_days(date(2026, 6, 6), 1) == date(2026, 6, 8)
    # backwards: the working day before Thu 10/8 is Wed 9/30
    assert cal.add_working_days(date(2026, 10, 8), -1) == date(2026, 9, 30)
    assert cal.working_days_between(date(2026, 10, 22), date(2026, 9, 18)) == -20


def test_cross_year_into_official_2026():
    # policy R15: 2026 元旦 1/1–1/3 off, Sun 1/4 调休 working
    cal = default_calendar()
    assert cal.add_working_days(date(2025, 12, 31), 1) == date(2026, 1, 4)
    assert cal.working_days_between(date(2025, 12, 30), date(2026, 1, 5)) == 3


def test_cross_year_into_provisional_2027():
    # policy R15: 2027 has no official data — weekends + fixed-date holidays, provisional
    cal = default_calendar()
    assert official_year(2027) is None
    # Thu 2026-12-24: 12/25=1, 12/28..12/31=2..5, Fri 2027-01-01 元旦 off, Mon 1/4=6
    assert cal.add_working_days(date(2026, 12, 24), 5) == date(2026, 12, 31)
    assert cal.add_working_days(date(2026, 12, 24), 6) == date(2027, 1, 4)
    assert cal.is_provisional(date(2027, 1, 4))
    assert not cal.is_provisional(date(2026, 12, 31))
    # provisional 2027: Fri 10/1 off, Mon 10/4 working (no 7-day span, no 调休 known)
    assert not cal.is_working_day(date(2027, 10, 1))
    assert cal.is_working_day(date(2027, 10, 4))
    assert cal.add_working_days(date(2027, 9, 30), 1) == date(2027, 10, 4)
    y = provisional_year(2027)
    assert not y.official and date(2027, 5, 1) in y.off_days and date(2027, 5, 2) in y.off_days
    assert {date(2027, 10, d) for d in (1, 2, 3)} <= y.off_days


def test_official_2027_loaded_moves_the_count():
    # policy R15: loading the official year changes deadlines that fell into it
    official = CalendarYear(
        2027,
        off_days=frozenset(date(2027, 10, d) for d in range(1, 8)),
        working_days=frozenset({date(2027, 9, 26), date(2027, 10, 9)}),
        official=True,
        source="国务院办公厅通知（测试数据）",
    )
    cal = WorkingCalendar([*default_calendar().years(), official])
    assert not cal.is_provisional(date(2027, 10, 8))
    # Thu 9/30: 10/1–10/7 off → Fri 10/8 is the first working day
    assert cal.add_working_days(date(2027, 9, 30), 1) == date(2027, 10, 8)
    assert cal.is_working_day(date(2027, 10, 9))  # Saturday 调休


def test_day_both_off_and_working_is_refused():
    # policy R15: a year listing a day as both off and working is invalid
    with pytest.raises(ValueError, match="both off and working"):
        CalendarYear(
            2027, frozenset({date(2027, 2, 6)}), frozenset({date(2027, 2, 6)}), official=True, source="x"
        )
    with pytest.raises(ValueError, match="outside year"):
        CalendarYear(2027, frozenset({date(2026, 2, 6)}), frozenset(), official=True, source="x")


def test_count_and_add_agree_everywhere():
    # policy R15: working_days_between(d, add_working_days(d, n)) == n, for any d and n
    cal = default_calendar()
    rng = random.Random(4)
    for _ in range(2000):
        d = date(2020, 1, 1) + timedelta(days=rng.randrange(0, 365 * 9))
        n = rng.randrange(1, 300)
        end = cal.add_working_days(d, n)
        assert cal.is_working_day(end)
        assert cal.working_days_between(d, end) == n
        back = cal.add_working_days(end, -n)
        assert back <= d and cal.working_days_between(back, end) == n


def test_year_data_round_trips_as_json():
    # policy R15: the issues and scoring services rebuild the calendar from the JSON data
    cal = default_calendar()
    body = {"years": [y.to_dict() for y in cal.years()]}
    again = calendar_from_json(body)
    d = date(2026, 9, 18)
    assert again.add_working_days(d, 20) == cal.add_working_days(d, 20)
    assert official_year(2026).to_dict()["official"] is True
