"""The platform's one working-day calendar (policy R15): pure counting over year data.

Each year is data: its off days (statutory holidays, including the weekend days inside a
holiday span), its make-up working days (调休, weekend days that are worked), its source
and whether it is official.  A day is a working day when it is a make-up working day, or
when it is Monday–Friday and not an off day.

Counting convention (stated once, used everywhere): **the start day is not counted**.
A 20-working-day limit accepted (受理) on day D ends on ``add_working_days(D, 20)``, the
20th working day after D; ``working_days_between(a, b)`` counts the working days in the
half-open interval (a, b].  So ``working_days_between(d, add_working_days(d, n)) == n``.

Years:
* official years come from the ``chinese-calendar`` package (State Council notices,
  2004–2026 in the pinned version) or from an administrator's ``PUT /api/v1/calendar/{y}``;
* a year without official data is *provisional*: weekends plus the fixed-date statutory
  holidays that do not depend on the lunar calendar or a solar term — 1 Jan (元旦),
  1–2 May (劳动节, two days since the 2025 revision of 全国年节及纪念日放假办法) and
  1–3 Oct (国庆节).  Spring Festival, Qingming, Dragon Boat and Mid-Autumn, and every
  make-up working day, are unknown until the State Council publishes the year; a deadline
  falling into such a year is marked provisional (``is_provisional``).

Speed: per calendar a contiguous, lazily extended, sorted array of working-day ordinals;
``add_working_days`` and ``working_days_between`` are a ``bisect`` each (~1 µs).

The issues and scoring services build the calendar from the approvals service's data with
``await load_calendar()`` (HTTP ``GET /internal/calendar``, cached 60 s). When approvals
does not answer they keep the last calendar it gave and never count from built-in data; a
change reaches them as the ``calendar.year_changed`` event, which carries the year's data.
"""

from __future__ import annotations

import asyncio
import logging
import time
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

log = logging.getLogger("kpp.calendar")

MIN_YEAR = 1900
MAX_YEAR = 2200
# Fixed-date statutory holidays (month, day) used for provisional years.
FIXED_HOLIDAYS: tuple[tuple[int, int], ...] = ((1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3))
PROVISIONAL_SOURCE = "provisional: weekends + fixed-date holidays (1/1, 5/1–5/2, 10/1–10/3)"
CHINESE_CALENDAR_SOURCE = "chinese-calendar"
CACHE_TTL_S = 60.0


@dataclass(frozen=True)
class CalendarYear:
    year: int
    off_days: frozenset[date]
    working_days: frozenset[date]
    official: bool
    source: str

    def __post_init__(self) -> None:
        if not MIN_YEAR <= self.year <= MAX_YEAR:
            raise ValueError(f"year {self.year} outside {MIN_YEAR}–{MAX_YEAR}")
        outside = sorted(d for d in self.off_days | self.working_days if d.year != self.year)
        if outside:
            raise ValueError(f"dates outside year {self.year}: {[d.isoformat() for d in outside]}")
        both = sorted(self.off_days & self.working_days)
        if both:
            raise ValueError(f"days both off and working: {[d.isoformat() for d in both]}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "off_days": [d.isoformat() for d in sorted(self.off_days)],
            "working_days": [d.isoformat() for d in sorted(self.working_days)],
            "official": self.official,
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CalendarYear:
        def dates(values: Iterable[Any]) -> frozenset[date]:
            return frozenset(v if isinstance(v, date) else date.fromisoformat(v) for v in values)

        return cls(
            year=int(data["year"]),
            off_days=dates(data.get("off_days") or ()),
            working_days=dates(data.get("working_days") or ()),
            official=bool(data.get("official")),
            source=str(data.get("source") or ""),
        )

    def working_ordinals(self) -> list[int]:
        """Sorted ordinals of this year's working days."""
        first = date(self.year, 1, 1).toordinal()
        last = date(self.year, 12, 31).toordinal()
        off = {d.toordinal() for d in self.off_days}
        extra = {d.toordinal() for d in self.working_days}
        # date.fromordinal(o).weekday() == (o + 6) % 7
        return [o for o in range(first, last + 1) if o in extra or ((o + 6) % 7 < 5 and o not in off)]


class WorkingCalendar:
    """Working-day arithmetic over the given years; a year not given is provisional."""

    def __init__(self, years: Iterable[CalendarYear] = ()) -> None:
        self._years: dict[int, CalendarYear] = {y.year: y for y in years}
        self._lo = 0  # first year in _ords (0 = nothing built yet)
        self._hi = -1  # last year in _ords
        self._ords: list[int] = []

    # -- year data -------------------------------------------------------------------------
    def year(self, year: int) -> CalendarYear:
        y = self._years.get(year)
        if y is None:
            y = provisional_year(year)
            self._years[year] = y
        return y

    def years(self) -> list[CalendarYear]:
        return [self._years[k] for k in sorted(self._years)]

    def is_provisional(self, d: date) -> bool:
        """True when ``d``'s year has no official data (a deadline there may still move)."""
        y = self._years.get(d.year)
        return y is None or not y.official

    # -- the sorted working-day array ------------------------------------------------------
    def _ensure(self, lo: int, hi: int) -> None:
        lo, hi = max(lo, MIN_YEAR), min(hi, MAX_YEAR)
        if self._lo and self._lo <= lo and hi <= self._hi:
            return
        if not self._lo:
            new_lo, new_hi = lo, hi
        else:
            new_lo, new_hi = min(lo, self._lo), max(hi, self._hi)
        before: list[int] = []
        for y in range(new_lo, self._lo if self._lo else new_hi + 1):
            before.extend(self.year(y).working_ordinals())
        after: list[int] = []
        if self._lo:
            for y in range(self._hi + 1, new_hi + 1):
                after.extend(self.year(y).working_ordinals())
        self._ords = before + self._ords + after
        self._lo, self._hi = new_lo, new_hi

    def _covering(self, o: int) -> None:
        y = date.fromordinal(o).year
        if not self._lo or y < self._lo or y > self._hi:
            self._ensure(y - 1, y + 1)

    # -- counting --------------------------------------------------------------------------
    def is_working_day(self, d: date) -> bool:
        y = self._years.get(d.year) or self.year(d.year)
        if d in y.working_days:
            return True
        return d.weekday() < 5 and d not in y.off_days

    def add_working_days(self, start: date, n: int) -> date:
        """The ``n``-th working day after ``start`` (``start`` itself not counted).

        ``n == 0`` returns ``start``; a negative ``n`` counts backwards (the ``|n|``-th
        working day before ``start``).
        """
        if n == 0:
            return start
        o = start.toordinal()
        self._covering(o)
        while True:
            ords = self._ords
            if n > 0:
                i = bisect_right(ords, o) + n - 1
                if i < len(ords):
                    return date.fromordinal(ords[i])
                if self._hi >= MAX_YEAR:
                    raise ValueError("working-day count beyond the calendar's range")
                self._ensure(self._lo, self._hi + 1 + n // 240)
            else:
                i = bisect_left(ords, o) + n
                if i >= 0:
                    return date.fromordinal(ords[i])
                if self._lo <= MIN_YEAR:
                    raise ValueError("working-day count before the calendar's range")
                self._ensure(self._lo - 1 - (-n) // 240, self._hi)

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; negative (−count of (end, start]) if end < start."""
        if end < start:
            return -self.working_days_between(end, start)
        a, b = start.toordinal(), end.toordinal()
        ya, yb = start.year, end.year
        if not self._lo or ya < self._lo or yb > self._hi:
            lo = min(ya, self._lo) if self._lo else ya
            self._ensure(lo, max(yb, self._hi))
        return bisect_right(self._ords, b) - bisect_right(self._ords, a)

    def previous_working_day_or_same(self, d: date) -> date:
        """``d`` if it is a working day, else the last working day before it."""
        return d if self.is_working_day(d) else self.add_working_days(d, -1)


# -- year sources ----------------------------------------------------------------------------
@lru_cache(maxsize=512)
def official_year(year: int) -> CalendarYear | None:
    """The year from ``chinese-calendar`` (official State Council data), or None."""
    try:
        from chinese_calendar.constants import holidays, workdays
    except ImportError:  # pragma: no cover - pinned dependency
        return None
    off = frozenset(d for d in holidays if d.year == year)
    work = frozenset(d for d in workdays if d.year == year)
    if not off:
        return None
    try:
        import chinese_calendar

        version = getattr(chinese_calendar, "__version__", "")
    except Exception:  # pragma: no cover
        version = ""
    source = f"{CHINESE_CALENDAR_SOURCE} {version}".strip()
    return CalendarYear(year, off, work, official=True, source=source)


@lru_cache(maxsize=512)
def provisional_year(year: int) -> CalendarYear:
    """Weekends plus the fixed-date statutory holidays; never official."""
    off = frozenset(date(year, m, d) for m, d in FIXED_HOLIDAYS)
    return CalendarYear(year, off, frozenset(), official=False, source=PROVISIONAL_SOURCE)


def official_years() -> list[CalendarYear]:
    """Every year ``chinese-calendar`` has official data for."""
    try:
        from chinese_calendar.constants import holidays
    except ImportError:  # pragma: no cover
        return []
    years = sorted({d.year for d in holidays})
    return [y for y in (official_year(v) for v in years) if y is not None]


def default_calendar() -> WorkingCalendar:
    """Official years from ``chinese-calendar`` where known, provisional elsewhere."""
    return WorkingCalendar(official_years())


def calendar_from_json(body: dict[str, Any]) -> WorkingCalendar:
    """Build from ``{"years": [{year, off_days, working_days, official, source}]}``."""
    return WorkingCalendar(CalendarYear.from_dict(y) for y in body.get("years") or ())


# The last calendar read from the approvals service, which owns it (architecture: "Time
# limits"): (read at (monotonic), refresh after (monotonic), calendar, revision).
_known: tuple[float, float, WorkingCalendar, int] | None = None
_refresh_lock: asyncio.Lock | None = None
# after a failed read, the last known calendar is served this long before the next try, so
# that an outage does not cost every caller the connection retries
RETRY_AFTER_S = 10.0


async def load_calendar(*, max_age_s: float = CACHE_TTL_S) -> WorkingCalendar:
    """The platform calendar as the approvals service last answered it (cached ``max_age_s``).

    architecture (must): a service that cannot read the calendar keeps its last known data
    and never counts from a stand-in: when approvals does not answer, the last calendar it
    gave is returned (and a warning logged); when it never answered since this process
    started, ``ServiceUnavailable`` (``calendar.unavailable``) says so. Concurrent callers
    share one refresh.
    """
    global _refresh_lock
    hit = _fresh(max_age_s)
    if hit is not None:
        return hit
    if _refresh_lock is None:
        _refresh_lock = asyncio.Lock()
    async with _refresh_lock:
        hit = _fresh(max_age_s)
        return hit if hit is not None else await _refresh()


def known_revision() -> int | None:
    """The revision of the last calendar read from approvals (None: none read yet)."""
    return _known[3] if _known is not None else None


def _fresh(max_age_s: float) -> WorkingCalendar | None:
    now = time.monotonic()
    if _known is not None and now - _known[0] < max_age_s and now < _known[1]:
        return _known[2]
    return None


async def _refresh() -> WorkingCalendar:
    global _known
    from shared.errors import ServiceUnavailable
    from shared.http import service_client

    now = time.monotonic()
    problem: object
    try:
        resp = await service_client.get("approvals", "/internal/calendar")
        if resp.ok:
            body = resp.json()
            cal = calendar_from_json(body)
            _known = (now, now + CACHE_TTL_S, cal, int(body.get("revision") or 0))
            return cal
        problem = f"HTTP {resp.status}"
    except (ServiceUnavailable, ValueError, KeyError, TypeError) as exc:
        problem = repr(exc)
    if _known is None:
        log.warning("approvals calendar unavailable (%s) and none read yet", problem)
        raise ServiceUnavailable("工作日历暂时无法从审批服务读取，请稍后重试", code="calendar.unavailable")
    log.warning("approvals calendar unavailable (%s); keeping revision %s", problem, _known[3])
    _known = (_known[0], now + RETRY_AFTER_S, _known[2], _known[3])
    return _known[2]


def remember_year(data: dict[str, Any], *, revision: int) -> WorkingCalendar:
    """Take one year's data as announced by ``calendar.year_changed`` into the known
    calendar (the event carries the year, so a consumer needs no second read)."""
    global _known
    if _known is None:
        raise RuntimeError("remember_year needs a calendar read first (load_calendar)")
    year = CalendarYear.from_dict(data)
    cal = WorkingCalendar([*(y for y in _known[2].years() if y.year != year.year), year])
    _known = (_known[0], _known[1], cal, max(revision, _known[3]))
    return cal


def expire_calendar_cache() -> None:
    """The next ``load_calendar`` asks approvals again; the known data is kept meanwhile."""
    global _known
    if _known is not None:
        _known = (_known[0] - CACHE_TTL_S, _known[0] - CACHE_TTL_S, _known[2], _known[3])


def clear_calendar_cache() -> None:
    global _known
    _known = None


def daterange(start: date, end: date) -> Iterable[date]:
    """Every date in [start, end]."""
    for i in range((end - start).days + 1):
        yield start + timedelta(days=i)
