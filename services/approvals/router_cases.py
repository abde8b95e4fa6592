"""HTTP: approval kinds, cases, service-hall events."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from services.approvals import cases, events_batch, events_intake, kinds, overview
from services.approvals.schemas import CaseIn, EventBatchIn, EventIn, FastTrackIn, KindIn, KindUpdate
from services.approvals.schemas_out import (
    CaseListOut,
    CaseSummary,
    CaseView,
    EventBatchReply,
    EventReply,
    KindList,
    KindOut,
    problems,
)
from shared.db import DbSession, UnitOfWorkRoute, get_write_connection
from shared.identity import CurrentPrincipal, current_principal

kind_router = APIRouter(prefix="/api/v1/approval-kinds", tags=["approval-kinds"], route_class=UnitOfWorkRoute)
router = APIRouter(prefix="/api/v1/approval-cases", tags=["approval-cases"], route_class=UnitOfWorkRoute)

STATES = "new|submitted|awaiting_supplement|running|paused|warning|overdue|done|rejected"
# The replies are documented with responses= (documentation only): the handlers' bodies
# (kinds.kind_json, cases.case_summary / clock_view, the intake's pre-serialised JSON) are
# sent exactly as built. tests/approvals/test_openapi_shapes.py validates them against the models.
KIND = {"model": KindOut, "description": "审批类型"}
SUMMARY = {"model": CaseSummary, "description": "案件及其计时摘要"}


@kind_router.get(
    "",
    responses={200: {"model": KindList, "description": "审批类型列表"}, **problems()},
    summary="审批类型列表",
)
async def list_kinds(session: DbSession, principal: CurrentPrincipal):
    return {"items": [kinds.kind_json(k) for k in await kinds.list_kinds(session)]}


@kind_router.get("/{code}", responses={200: KIND, **problems(404)}, summary="审批类型")
async def get_kind(
    code: Annotated[str, Path(max_length=60)], session: DbSession, principal: CurrentPrincipal
):
    return kinds.kind_json(await kinds.get_kind(session, code, missing="not_found"))


@kind_router.post(
    "",
    status_code=201,
    responses={201: KIND, **problems(403, 409, 422)},
    summary="新增审批类型（管理员、重点办）",
)
async def create_kind(data: KindIn, session: DbSession, principal: CurrentPrincipal):
    return kinds.kind_json(await kinds.create_kind(session, principal=principal, data=data))


@kind_router.put(
    "/{code}",
    responses={200: KIND, **problems(403, 404, 422)},
    summary="调整审批类型（各环节时限等；全链条合计受控）",
)
async def update_kind(
    code: Annotated[str, Path(max_length=60)],
    data: KindUpdate,
    session: DbSession,
    principal: CurrentPrincipal,
):
    return kinds.kind_json(await kinds.update_kind(session, principal=principal, code=code, data=data))


@router.post(
    "", status_code=201, responses={201: SUMMARY, **problems(403, 422, 503)}, summary="为项目开立审批案件"
)
async def create_case(data: CaseIn, session: DbSession, principal: CurrentPrincipal, response: Response):
    case = await cases.create_case(session, principal=principal, data=data)
    response.headers["Location"] = f"/api/v1/approval-cases/{case.id}"
    return cases.case_summary(case)


@router.get(
    "",
    response_model=CaseListOut,
    responses=problems(403, 422),
    summary="审批案件列表（按状态、项目、类型筛选）",
)
async def list_cases(
    session: DbSession,
    principal: CurrentPrincipal,
    state: str | None = Query(None, description="状态", pattern=f"^({STATES})$", max_length=20),
    project_id: uuid.UUID | None = Query(None, description="项目 id"),
    kind: str | None = Query(None, description="审批类型", max_length=60),
    unit_id: str | None = Query(None, description="项目所属乡镇/部门", max_length=40),
    fast_track: bool | None = Query(None, description="是否绿色通道"),
    page: int = Query(1, ge=1, le=100_000, description="页码（最大 100000）"),
    page_size: int = Query(50, ge=1, le=500, description="每页条数"),
):
    return await cases.list_cases(
        session,
        principal=principal,
        state=state,
        project_id=project_id,
        kind=kind,
        unit_id=unit_id,
        fast_track=fast_track,
        page=page,
        page_size=page_size,
    )


@router.get(
    "/overview",
    responses=problems(403, 422),
    summary="本年审批概览：按部门统计按时、预警、超期；低风险项目全链条计时对照 20 个工作日",
)
async def cases_overview(
    session: DbSession,
    principal: CurrentPrincipal,
    year: int = Query(..., ge=2000, le=2100, description="年度"),
):
    return await overview.overview(session, principal=principal, year=year)


@router.get(
    "/{case_id}",
    responses={200: {"model": CaseView, "description": "案件计时全貌"}, **problems(403, 404, 422)},
    summary="案件计时：全链条及各环节已用、剩余、到期日、状态",
)
async def get_case(case_id: uuid.UUID, session: DbSession, principal: CurrentPrincipal):
    return await cases.get_case_view(session, principal=principal, case_id=case_id)


@router.post(
    "/{case_id}/events",
    status_code=201,
    responses={
        201: {"model": EventReply, "description": "事件已登记；返回事件及登记后的案件"},
        200: {"model": EventReply, "description": "重复提交（同一 event_id、同一内容）：返回首次登记的结果"},
        **problems(403, 404, 409, 422),
    },
    summary="政务服务大厅办件事件（按 event_id 幂等）",
)
async def post_event(case_id: uuid.UUID, data: EventIn, request: Request):
    # issue 15: two statements straight to the driver on the request's WriteConnection,
    # committed by the unit of work; principal and connection taken without nested
    # dependency resolutions (as the registry's project read and monthly report)
    principal = await current_principal(request)
    conn = await get_write_connection(request)
    status, body = await events_intake.post_event(conn, principal=principal, case_id=case_id, data=data)
    headers = {"Idempotent-Replayed": "true"} if status == 200 else {}
    # the body is serialised once (the same text is stored as the event's result)
    return Response(body.encode(), status_code=status, headers=headers, media_type="application/json")


@router.post(
    "/events",
    responses={
        200: {"model": EventBatchReply, "description": "逐条登记结果（被拒绝的事件不影响其余事件）"},
        **problems(403, 422),
    },
    summary="政务服务大厅办件事件批量登记（每条按 event_id 幂等，逐条答复）",
)
async def post_events(data: EventBatchIn, request: Request):
    principal = await current_principal(request)
    conn = await get_write_connection(request)
    body = await events_batch.post_events(conn, principal=principal, events=data.events)
    return Response(body.encode(), media_type="application/json")


@router.post(
    "/{case_id}/fast-track",
    responses={200: SUMMARY, **problems(403, 404, 422, 503)},
    summary="绿色通道及专人协助（管理员、重点办）",
)
async def set_fast_track(
    case_id: uuid.UUID, data: FastTrackIn, session: DbSession, principal: CurrentPrincipal
):
    case = await cases.set_fast_track(session, principal=principal, case_id=case_id, data=data)
    return cases.case_summary(case)
