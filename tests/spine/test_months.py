"""One month arithmetic for every service (issue 16: registry and scoring each had a
``previous_month``, one taking a month, the other a date)."""

from __future__ import annotations

from datetime import date

import pytest

from shared.errors import InvalidInput
from shared.months import last_day, month_bounds, month_of, parse_month, previous_month


def test_previous_month_crosses_the_year_and_takes_a_month():
    # policy R6 (the last closed report month) and R30 (last month's rank) both step back
    assert previous_month("2027-01") == "2026-12"
    assert previous_month("2026-10") == "2026-09"
    assert previous_month(month_of(date(2028, 3, 1))) == "2028-02"


def test_month_bounds_know_leap_years():
    # policy R27: a month's facts run from its first to its last day
    assert month_bounds("2028-02") == (date(2028, 2, 1), date(2028, 2, 29))
    assert month_bounds("2027-02") == (date(2027, 2, 1), date(2027, 2, 28))
    assert last_day("2026-12") == date(2026, 12, 31)


@pytest.mark.parametrize("bad", ["2026-13", "2026-1", "０２６-01", "2026-00", "", "0999-01"])
def test_a_malformed_month_is_a_422_naming_the_field(bad):
    with pytest.raises(InvalidInput) as refused:
        parse_month(bad, field="period")
    assert refused.value.code == "month.invalid"
    assert refused.value.fields == [{"field": "period", "message": "应为 YYYY-MM"}]
