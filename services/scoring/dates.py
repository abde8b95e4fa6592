"""Months (`YYYY-MM`) and business dates (Asia/Shanghai) as the scoring service uses them."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from shared import clock
from shared.errors import InvalidInput

MONTH_RE = re.compile(r"^([12][0-9]{3})-(0[1-9]|1[0-2])$")  # ASCII digits, no year 0


def parse_month(month: str, *, field: str = "month") -> tuple[int, int]:
    m = MONTH_RE.match(month or "")
    if not m:
        raise InvalidInput(
            f"月份 {month!r} 格式应为 YYYY-MM",
            code="month.invalid",
            fields=[{"field": field, "message": "应为 YYYY-MM"}],
        )
    return int(m.group(1)), int(m.group(2))


def month_bounds(month: str) -> tuple[date, date]:
    """(first day, last day) of the month."""
    y, m = parse_month(month)
    first = date(y, m, 1)
    nxt = date(y + (m == 12), m % 12 + 1, 1)
    return first, nxt - timedelta(days=1)


def month_of(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def previous_month(today: date) -> str:
    return month_of(today.replace(day=1) - timedelta(days=1))


def parse_business_date(value: Any) -> date | None:
    """A date, or the Asia/Shanghai date of an ISO timestamp; None if absent or unreadable."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        return value
    else:
        text = str(value)
        try:
            if len(text) == 10:
                return date.fromisoformat(text)
            dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return clock.business_date(dt)


def ensure_month_ended(month: str) -> None:
    """A month can be assessed only once it is over (its last day is before today)."""
    _, last = month_bounds(month)
    if last >= clock.today():
        raise InvalidInput(
            f"{month} 尚未结束，不能进行月度考核",
            code="assessment.month_not_ended",
            fields=[{"field": "month", "message": "月份尚未结束"}],
        )
