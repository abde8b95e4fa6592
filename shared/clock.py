"""The one clock (architecture: "One clock"): the only place code asks for "now" and "today".

- ``now()`` is an aware UTC timestamp; ``today()`` is the business date in Asia/Shanghai
  (between 16:00 and 24:00 UTC that is already tomorrow's UTC date, so never use
  ``date.today()`` for it).
- Tests (and a job run "as of" a moment) set the clock with ``set_now`` or the ``frozen``
  context manager. A set clock keeps ticking from the moment it was set to unless
  ``tick=False``, so timestamps written one after another still come in order.
- Durations and metrics measure with ``time.monotonic()``/``perf_counter()`` directly:
  they are not readings of the calendar and need no clock.

The override is process-wide (not a ContextVar) on purpose: the test platform runs every
service in one process, and requests are served by tasks that do not inherit a test's
context.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from shared.settings import get_settings

# (moment set, monotonic reading when it was set, ticking?) or None for the wall clock
_fixed: tuple[datetime, float, bool] | None = None


@lru_cache
def business_tz() -> ZoneInfo:
    return ZoneInfo(get_settings().business_tz)


def now() -> datetime:
    """The current instant, UTC, timezone-aware."""
    if _fixed is None:
        return datetime.now(UTC)
    moment, set_at, ticking = _fixed
    if not ticking:
        return moment
    return moment + timedelta(seconds=time.monotonic() - set_at)


def today() -> date:
    """Today's business date (Asia/Shanghai)."""
    return business_date(now())


def wall_timestamp() -> int:
    """Seconds since the epoch on the real wall clock, never the set one: for cryptographic
    freshness (token expiry, request signatures, rate-limit windows) that other parties and
    the JWT library check against their own real clocks."""
    return int(time.time())


def business_date(moment: datetime) -> date:
    """The business date of an instant (a naive instant is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(business_tz()).date()


def at_business_time(day: date, hour: int = 9, minute: int = 0) -> datetime:
    """The UTC instant of a wall-clock time in the business zone on ``day``."""
    local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=business_tz())
    return local.astimezone(UTC)


def set_now(moment: datetime | date | None, *, tick: bool = True) -> None:
    """Set the clock to ``moment`` (a date means 09:00 business time that day); ``None``
    returns it to the wall clock."""
    global _fixed
    if moment is None:
        _fixed = None
        return
    if not isinstance(moment, datetime):
        moment = at_business_time(moment)
    elif moment.tzinfo is None:
        raise ValueError("clock.set_now needs an aware datetime (or a date)")
    _fixed = (moment.astimezone(UTC), time.monotonic(), tick)


def advance(delta: timedelta) -> None:
    """Move a set clock on by ``delta`` (the wall clock cannot be moved)."""
    if _fixed is None:
        raise RuntimeError("clock.advance needs a clock set with set_now")
    set_now(now() + delta, tick=_fixed[2])


def is_set() -> bool:
    return _fixed is not None


@contextmanager
def frozen(moment: datetime | date, *, tick: bool = True) -> Iterator[None]:
    """Run a block with the clock set to ``moment``; the previous setting comes back after."""
    global _fixed
    before = _fixed
    set_now(moment, tick=tick)
    try:
        yield
    finally:
        _fixed = before
