"""Business dates in event payloads, and which months may be assessed (scoring); months
themselves are ``shared.months``."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from shared import clock
from shared.errors import InvalidInput
from shared.months import month_bounds


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
