"""Business dates: timestamps are UTC, but a business date is the date in Asia/Shanghai
(architecture: business dates are dates in Asia/Shanghai). Between 16:00 and 24:00 UTC the
business date is already tomorrow's UTC date, so never use ``date.today()`` for it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from shared.settings import get_settings


@lru_cache
def business_tz() -> ZoneInfo:
    return ZoneInfo(get_settings().business_tz)


def business_today() -> date:
    return datetime.now(business_tz()).date()


def business_date(moment: datetime) -> date:
    """The business date of an instant (a naive instant is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(business_tz()).date()
