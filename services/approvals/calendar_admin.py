"""Loading or correcting a calendar year (R15): validated, audited, and every open deadline
it can move recomputed in the same transaction (``approval.deadline_changed`` per change)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.approvals.calendar_store import (
    MAX_REVISION_SQL,
    current_calendar,
    forget_cached_calendar,
    next_revision,
    year_data,
    year_json,
)
from services.approvals.models import CalendarYearRow, pipeline
from services.approvals.recompute import recompute_open_cases
from services.approvals.schemas import CalendarYearIn
from shared import clock, contracts
from shared.calendar import MAX_YEAR, MIN_YEAR, CalendarYear, official_year
from shared.errors import InvalidInput
from shared.identity import Principal


def check_year(year: int) -> None:
    if not 2000 <= year <= MAX_YEAR or year < MIN_YEAR:
        raise InvalidInput(
            f"年份 {year} 超出可维护范围（2000–{MAX_YEAR}）",
            code="calendar.year_invalid",
            fields=[{"field": "year", "message": "年份无效"}],
        )


def validate(year: int, data: CalendarYearIn) -> CalendarYear:
    off, work = set(data.off_days), set(data.working_days)
    fields = []
    outside = sorted(d for d in off | work if d.year != year)
    if outside:
        fields = [
            {
                "field": "off_days" if d in off else "working_days",
                "message": f"{d.isoformat()} 不属于 {year} 年",
            }
            for d in outside
        ]
        raise InvalidInput(f"日期不属于 {year} 年", code="calendar.date_outside_year", fields=fields)
    both = sorted(off & work)
    if both:
        raise InvalidInput(
            f"{'、'.join(d.isoformat() for d in both)} 同时被列为休息日和调休上班日",
            code="calendar.day_both_off_and_working",
            fields=[{"field": "working_days", "message": f"{d.isoformat()} 同时为休息日"} for d in both],
        )
    weekdays = sorted(d for d in work if d.weekday() < 5)
    if weekdays:
        raise InvalidInput(
            f"{'、'.join(d.isoformat() for d in weekdays)} 是周一至周五，本就是工作日，不能列为调休上班日",
            code="calendar.working_day_not_weekend",
            fields=[{"field": "working_days", "message": f"{d.isoformat()} 不是周末"} for d in weekdays],
        )
    return CalendarYear(year, frozenset(off), frozenset(work), official=data.official, source=data.source)


async def _store(session: AsyncSession, y: CalendarYear, actor: str) -> None:
    rev = await next_revision(session)
    values = {
        "off_days": sorted(y.off_days),
        "working_days": sorted(y.working_days),
        "official": y.official,
        "source": y.source,
        "revision": rev,
        "updated_at": clock.now(),
        "updated_by": actor,
    }
    await session.execute(
        pg_insert(CalendarYearRow)
        .values(year=y.year, **values)
        .on_conflict_do_update(index_elements=["year"], set_=values)
    )
    forget_cached_calendar()


async def put_year(
    session: AsyncSession, *, principal: Principal, year: int, data: CalendarYearIn
) -> dict[str, Any]:
    principal.require_office()
    check_year(year)
    new = validate(year, data)
    old, _ = await year_data(session, year)
    await _store(session, new, principal.subject)
    await pipeline.audit(
        session,
        principal,
        entity="calendar_year",
        entity_id=year,
        action="put",
        before=old.to_dict(),
        after=new.to_dict(),
        reason=data.reason,
    )
    return await _after_change(
        session, principal, year, old, new, data.reason or f"{year} 年工作日历更新（{new.source}）"
    )


async def reset_year(session: AsyncSession, *, principal: Principal, year: int) -> dict[str, Any]:
    """Back to the built-in data: chinese-calendar's official year, else provisional."""
    principal.require_office()
    check_year(year)
    old, _ = await year_data(session, year)
    await session.execute(delete(CalendarYearRow).where(CalendarYearRow.year == year))
    forget_cached_calendar()
    builtin = official_year(year)
    if builtin is not None:
        await _store(session, builtin, principal.subject)
    else:  # keep max(revision) moving so every replica's cache notices the change
        await session.flush()
    new, _ = await year_data(session, year)
    await pipeline.audit(
        session,
        principal,
        entity="calendar_year",
        entity_id=year,
        action="reset",
        before=old.to_dict(),
        after=new.to_dict(),
        reason="恢复内置数据",
    )
    return await _after_change(session, principal, year, old, new, f"{year} 年工作日历恢复内置数据")


async def _after_change(
    session: AsyncSession, principal: Principal, year: int, old: CalendarYear, new: CalendarYear, reason: str
) -> dict[str, Any]:
    await session.flush()
    forget_cached_calendar()
    cal = await current_calendar(session)
    counts = {"checked_cases": 0, "changed_cases": 0}
    y, row = await year_data(session, year)
    if (old.off_days, old.working_days) != (new.off_days, new.working_days) or old.official != new.official:
        counts = await recompute_open_cases(session, cal, year=year, principal=principal, reason=reason)
        # architecture (must): the change reaches the other services as an event carrying
        # the year's data; they recompute their own deadlines from it, never from a fallback
        revision = int(await session.scalar(MAX_REVISION_SQL) or 0)
        changed = new.to_dict() | {"revision": revision, "reason": reason}
        await pipeline.emit(session, contracts.build("calendar.year_changed", changed), key=str(year))
    return year_json(y, row) | {"recomputed": counts}


def add_working_days_view(cal, start: date, days: int) -> dict[str, Any]:
    end = cal.add_working_days(start, days)
    return {
        "start": start,
        "days": days,
        "date": end,
        "provisional": cal.is_provisional(end),
        "convention": "起算日不计入：自起算日次日起，第 N 个工作日即为结果日期",
    }
