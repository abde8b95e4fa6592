"""HTTP: the working-day calendar (R15)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Path, Query

from services.approvals import calendar_admin
from services.approvals.calendar_store import (
    MAX_REVISION_SQL,
    current_calendar,
    stored_years,
    year_data,
    year_json,
)
from services.approvals.schemas import CalendarYearIn
from services.approvals.schemas_out import (
    AddWorkingDaysOut,
    CalendarChangeOut,
    CalendarYearOut,
    problems,
)
from shared.db import DbSession, UnitOfWorkRoute
from shared.errors import InvalidInput
from shared.identity import CurrentPrincipal

router = APIRouter(prefix="/api/v1/calendar", tags=["calendar"], route_class=UnitOfWorkRoute)
internal = APIRouter(prefix="/internal", tags=["internal"], route_class=UnitOfWorkRoute)

YEAR = Path(description="年份", ge=1900, le=2200)
# documentation only (responses=): the bodies are built by calendar_store / calendar_admin
YEAR_DOC = {
    200: {"model": CalendarYearOut, "description": "该年日历（未存储的年份为暂定数据）"},
    **problems(422),
}
CHANGE_DOC = {
    200: {"model": CalendarChangeOut, "description": "更新后的该年日历及未办结时限的重算结果"},
    **problems(403, 422),
}


@router.get(
    "/add-working-days",
    response_model=AddWorkingDaysOut,
    responses=problems(422),
    summary="起算日后第 N 个工作日（起算日不计入）",
)
async def add_working_days(
    session: DbSession,
    principal: CurrentPrincipal,
    start: date = Query(description="起算日（不计入）"),
    days: int = Query(description="工作日数（可为负数，向前数）", ge=-3650, le=3650),
):
    cal = await current_calendar(session)
    try:
        return calendar_admin.add_working_days_view(cal, start, days)
    except ValueError as exc:
        raise InvalidInput(
            "日期超出日历范围", code="calendar.out_of_range", fields=[{"field": "days", "message": str(exc)}]
        ) from None


@router.get("/{year}", responses=YEAR_DOC, summary="某年的休息日、调休上班日、数据来源、是否正式")
async def get_year(session: DbSession, principal: CurrentPrincipal, year: int = YEAR):
    y, row = await year_data(session, year)
    return year_json(y, row)


@router.put(
    "/{year}", responses=CHANGE_DOC, summary="导入或更正某年的工作日历（管理员、重点办）；重算所有未办结时限"
)
async def put_year(data: CalendarYearIn, session: DbSession, principal: CurrentPrincipal, year: int = YEAR):
    return await calendar_admin.put_year(session, principal=principal, year=year, data=data)


@router.delete(
    "/{year}", responses=CHANGE_DOC, summary="恢复某年的内置数据（chinese-calendar 或暂定）；重算未办结时限"
)
async def reset_year(session: DbSession, principal: CurrentPrincipal, year: int = YEAR):
    return await calendar_admin.reset_year(session, principal=principal, year=year)


@internal.get("/calendar", summary="全部已存储年份（供问题、考核服务构建工作日历）")
async def internal_calendar(session: DbSession, principal: CurrentPrincipal):
    revision = int(await session.scalar(MAX_REVISION_SQL) or 0)
    return {"revision": revision, "years": [y.to_dict() for y in await stored_years(session)]}
