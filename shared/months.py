"""Months as the rules count them: ``YYYY-MM``, a calendar month of business dates
(Asia/Shanghai) — the registry's monthly reports (R6), scoring's monthly assessment (R27).
One module, so ``previous_month`` means the same thing in every service."""

from __future__ import annotations

import re
from datetime import date, timedelta

from shared.errors import InvalidInput

MONTH_RE = re.compile(r"^([12][0-9]{3})-(0[1-9]|1[0-2])$")  # ASCII digits, no year 0


def parse_month(month: str, *, field: str = "month") -> tuple[int, int]:
    """(year, month number), or a 422 ``month.invalid`` naming ``field``."""
    m = MONTH_RE.match(month or "")
    if not m:
        raise InvalidInput(
            f"月份 {month!r} 格式应为 YYYY-MM",
            code="month.invalid",
            fields=[{"field": field, "message": "应为 YYYY-MM"}],
        )
    return int(m.group(1)), int(m.group(2))


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def month_bounds(month: str) -> tuple[date, date]:
    """(first day, last day) of the month."""
    y, m = parse_month(month)
    following = date(y + (m == 12), m % 12 + 1, 1)
    return date(y, m, 1), following - timedelta(days=1)


def last_day(month: str) -> date:
    return month_bounds(month)[1]


def previous_month(month: str) -> str:
    """The month before ``month`` (``2027-01`` → ``2026-12``)."""
    y, m = parse_month(month)
    return f"{y - 1}-12" if m == 1 else f"{y:04d}-{m - 1:02d}"
