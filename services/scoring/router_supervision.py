"""HTTP: assignment letters, notices and summons (policy R28). Thin: parse, call, shape."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query, Response

from services.scoring import assignments, notices
from services.scoring.schemas import (
    AssignmentIn,
    AssignmentOut,
    CompletionIn,
    JudgementIn,
    SummonsOut,
    SummonsOutcomeIn,
    UnitNotices,
)
from services.scoring.schemas_problem import problems
from shared.db import DbSession, UnitOfWorkRoute
from shared.identity import CurrentPrincipal

router = APIRouter(prefix="/api/v1", tags=["supervision"], route_class=UnitOfWorkRoute)


@router.post(
    "/assignments",
    status_code=201,
    response_model=AssignmentOut,
    summary="发交办函",
    responses=problems(
        e422="unit.unknown / assignment.unit_not_assessable / project.not_found / "
        "assignment.deadline_before_letter / request.invalid",
        e503="service.unavailable",
    ),
)
async def create_assignment(
    data: AssignmentIn, session: DbSession, principal: CurrentPrincipal, response: Response
):
    a = await assignments.create_assignment(session, principal=principal, data=data)
    response.headers["Location"] = f"/api/v1/assignments/{a.id}"
    return a


@router.get(
    "/assignments",
    response_model=list[AssignmentOut],
    summary="交办函列表",
    responses=problems(e422="request.invalid"),
)
async def list_assignments(
    session: DbSession,
    principal: CurrentPrincipal,
    unit_id: str | None = Query(None, max_length=40, description="责任单位"),
    status: str | None = Query(None, max_length=40, description="状态"),
):
    return await assignments.list_assignments(session, principal=principal, unit_id=unit_id, status=status)


@router.get(
    "/assignments/{assignment_id}",
    response_model=AssignmentOut,
    summary="交办函详情",
    responses=problems(e404="assignment.not_found", e422="request.invalid"),
)
async def get_assignment(assignment_id: uuid.UUID, session: DbSession, principal: CurrentPrincipal):
    return await assignments.get_assignment(session, principal=principal, assignment_id=assignment_id)


@router.post(
    "/assignments/{assignment_id}/complete",
    response_model=AssignmentOut,
    summary="责任单位报办结",
    responses=problems(
        e404="assignment.not_found",
        e409="assignment.already_completed（附 status_now）",
        e422="assignment.completed_on_invalid / request.invalid",
    ),
)
async def complete_assignment(
    assignment_id: uuid.UUID,
    session: DbSession,
    principal: CurrentPrincipal,
    data: CompletionIn | None = None,
):
    return await assignments.report_completion(
        session, principal=principal, assignment_id=assignment_id, data=data or CompletionIn()
    )


@router.post(
    "/assignments/{assignment_id}/judge",
    response_model=AssignmentOut,
    summary="重点办评定办结情况（认可 / 办理不力）",
    responses=problems(
        e404="assignment.not_found",
        e409="assignment.not_completed（附 status_now）",
        e422="assignment.reason_required / request.invalid",
    ),
)
async def judge_assignment(
    assignment_id: uuid.UUID, data: JudgementIn, session: DbSession, principal: CurrentPrincipal
):
    return await assignments.judge_completion(
        session, principal=principal, assignment_id=assignment_id, data=data
    )


@router.get(
    "/units/{unit_id}/notices",
    response_model=UnitNotices,
    summary="单位的通报与约谈（含级别）",
    responses=problems(e422="request.invalid"),
)
async def unit_notices(unit_id: str, session: DbSession, principal: CurrentPrincipal):
    return await notices.unit_notices(session, principal=principal, unit_id=unit_id)


@router.get(
    "/summons",
    response_model=list[SummonsOut],
    summary="约谈列表",
    responses=problems(e422="request.invalid"),
)
async def list_summons(
    session: DbSession,
    principal: CurrentPrincipal,
    unit_id: str | None = Query(None, max_length=40, description="单位"),
    month: str | None = Query(None, description="考核月份 YYYY-MM"),
):
    return await notices.list_summons(session, principal=principal, unit_id=unit_id, month=month)


@router.post(
    "/summons/{summons_id}/outcome",
    response_model=SummonsOut,
    summary="记录约谈结果",
    responses=problems(
        e404="summons.not_found",
        e409="summons.already_held",
        e422="summons.held_on_invalid / request.invalid",
    ),
)
async def summons_outcome(
    summons_id: uuid.UUID, data: SummonsOutcomeIn, session: DbSession, principal: CurrentPrincipal
):
    return await notices.record_outcome(session, principal=principal, summons_id=summons_id, data=data)
