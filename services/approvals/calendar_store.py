"""The calendar as data in the approvals schema (policy R15).

Official years are seeded from ``chinese-calendar`` (``seed.py`` and lazily, on first use,
``ON CONFLICT DO NOTHING`` so an administrator's correction is never overwritten). A year
not stored is provisional (``shared.calendar.provisional_year``). Each process caches the
built ``WorkingCalendar`` keyed on ``max(revision)``, so a change made by another replica
is seen by the next request.
"""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.approvals.models import CalendarYearRow
from shared.calendar import CalendarYear, WorkingCalendar, official_years, provisional_year
from shared.db import WriteConnection, driver_statement

# the cache key: a write bumps max(revision); a reset to "provisional" deletes a row
REVISION_SQL = text("SELECT coalesce(max(revision), 0) * 10000 + count(*) FROM approvals.calendar_year")


MAX_REVISION_SQL = text("SELECT coalesce(max(revision), 0) FROM approvals.calendar_year")
_cache: dict[str, object] = {"revision": None, "calendar": None}


def row_to_year(row: CalendarYearRow | Any) -> CalendarYear:
    """A stored year (an ORM row, or a driver record as a namespace) as the calendar's."""
    return CalendarYear(
        row.year,
        frozenset(row.off_days),
        frozenset(row.working_days),
        official=row.official,
        source=row.source,
    )


async def next_revision(session: AsyncSession) -> int:
    current = await session.scalar(MAX_REVISION_SQL)
    return int(current or 0) + 1


async def seed_official_years(session: AsyncSession, *, actor: str = "kpp-system") -> int:
    """Insert the chinese-calendar years not stored yet; returns how many were inserted."""
    years = official_years()
    stored = set(await session.scalars(select(CalendarYearRow.year)))
    missing = [y for y in years if y.year not in stored]
    if not missing:
        return 0
    rev = await next_revision(session)
    result = await session.execute(
        pg_insert(CalendarYearRow)
        .values(
            [
                {
                    "year": y.year,
                    "off_days": sorted(y.off_days),
                    "working_days": sorted(y.working_days),
                    "official": True,
                    "source": y.source,
                    "revision": rev,
                    "updated_by": actor,
                }
                for y in missing
            ]
        )
        .on_conflict_do_nothing(index_elements=["year"])
        .returning(CalendarYearRow.year)
    )
    return len(result.all())


async def current_calendar(session: AsyncSession, *, revision: int | None = None) -> WorkingCalendar:
    """The platform calendar from the stored years (seeding the official ones if absent)."""
    if revision is None:
        revision = int(await session.scalar(REVISION_SQL) or 0)
    if revision == 0:
        await seed_official_years(session)
        revision = int(await session.scalar(REVISION_SQL) or 0)
    if _cache["revision"] == revision and _cache["calendar"] is not None:
        return _cache["calendar"]  # type: ignore[return-value]
    rows = (await session.scalars(select(CalendarYearRow))).all()
    cal = WorkingCalendar(row_to_year(r) for r in rows)
    _cache.update(revision=revision, calendar=cal)
    return cal


_YEARS = driver_statement(
    select(
        CalendarYearRow.year,
        CalendarYearRow.off_days,
        CalendarYearRow.working_days,
        CalendarYearRow.official,
        CalendarYearRow.source,
    )
)


async def calendar_as_loaded(conn: WriteConnection, revision: int) -> WorkingCalendar:
    """The calendar of ``revision`` (the key the intake's ``LOAD`` read) for a request on a
    ``WriteConnection``: the process's cached one, else built from the years stored, read in
    the request's transaction. Nothing stored yet (``current_calendar`` would seed them) is
    the official years themselves, not cached."""
    if revision and _cache["revision"] == revision and _cache["calendar"] is not None:
        return _cache["calendar"]  # type: ignore[return-value]
    if not revision:
        return WorkingCalendar(official_years())
    cal = WorkingCalendar(row_to_year(SimpleNamespace(**r)) for r in await conn.fetch(_YEARS, {}))
    _cache.update(revision=revision, calendar=cal)
    return cal


def forget_cached_calendar() -> None:
    _cache.update(revision=None, calendar=None)


async def stored_years(session: AsyncSession) -> list[CalendarYear]:
    await current_calendar(session)
    rows = (await session.scalars(select(CalendarYearRow).order_by(CalendarYearRow.year))).all()
    return [row_to_year(r) for r in rows]


async def year_data(session: AsyncSession, year: int) -> tuple[CalendarYear, CalendarYearRow | None]:
    await current_calendar(session)
    row = await session.get(CalendarYearRow, year)
    return (row_to_year(row) if row else provisional_year(year)), row


def year_json(y: CalendarYear, row: CalendarYearRow | None = None) -> dict:
    body = y.to_dict() | {"stored": row is not None}
    if row is not None:
        body |= {"updated_at": row.updated_at, "updated_by": row.updated_by, "revision": row.revision}
    body["off_day_count"] = len(y.off_days)
    body["working_day_count"] = len(y.working_days)
    body["total_working_days"] = WorkingCalendar([y]).working_days_between(
        date(y.year - 1, 12, 31), date(y.year, 12, 31)
    )
    return body
