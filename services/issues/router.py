"""HTTP layer of the issues service: parse, call the domain, shape the reply."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Response
from sqlalchemy import select

from services.issues import access, actions, clock, flow, overview, service, supervision
from services.issues.ledger import XLSX_MEDIA_TYPE, json_rows, ledger_rows, xlsx_bytes
from services.issues.models import Issue, Reminder
from services.issues.schemas import IssueIn, Kind, Source
from shared.clients.units import unit_directory
from shared.db import DbSession, UnitOfWorkRoute
from shared.identity import CurrentPrincipal
from shared.preconditions import IfMatchOptional

router = APIRouter(prefix="/api/v1/issues", tags=["issues"], route_class=UnitOfWorkRoute)

Step = Literal["discovered", "analysed", "decomposed", "assigned", "closure_requested", "closed"]


class Filters:
    def __init__(
        self,
        project_id: Annotated[uuid.UUID | None, Query(description="项目 ID")] = None,
        unit: Annotated[str | None, Query(max_length=40, description="责任单位或项目责任乡镇/部门")] = None,
        step: Annotated[Step | None, Query(description="当前环节")] = None,
        overdue: Annotated[bool | None, Query(description="是否超期（紧盯督办）")] = None,
        kind: Annotated[Kind | None, Query(description="问题类型")] = None,
        source: Annotated[Source | None, Query(description="来源")] = None,
    ) -> None:
        self.values = {
            "project_id": project_id,
            "unit": unit,
            "step": step,
            "overdue": overdue,
            "kind": kind,
            "source": source,
        }


def _etag(response: Response, issue: Issue) -> None:
    response.headers["ETag"] = f'"{issue.version}"'


@router.post("", status_code=201, summary="反映问题（问题发现）")
async def create_issue(
    data: IssueIn, session: DbSession, principal: CurrentPrincipal, response: Response
) -> dict[str, Any]:
    issue = await service.create_issue(session, principal=principal, data=data)
    response.headers["Location"] = f"/api/v1/issues/{issue.id}"
    _etag(response, issue)
    return await service.issue_detail(session, principal=principal, issue_id=issue.id)


@router.get("", summary="问题列表（按项目、单位、环节、超期筛选，分页）")
async def list_issues(
    session: DbSession,
    principal: CurrentPrincipal,
    filters: Annotated[Filters, Depends()],
    page: Annotated[int, Query(ge=1, le=100_000, description="页码（最大 100000）")] = 1,
    page_size: Annotated[int, Query(ge=1, le=200, description="每页条数")] = 50,
) -> dict[str, Any]:
    return await service.list_issues(
        session, principal=principal, page=page, page_size=page_size, **filters.values
    )


@router.get("/overview", summary="本年问题概览：各环节数量、超期、返工次数、回访满意度（R22–R25）")
async def issues_overview(
    session: DbSession,
    principal: CurrentPrincipal,
    year: Annotated[int, Query(ge=2000, le=2100, description="年度")],
) -> dict[str, Any]:
    return await overview.overview(session, principal=principal, year=year)


@router.get("/flow", summary="五步闭环流转表（环节 × 操作 → 下一环节）")
async def flow_table(principal: CurrentPrincipal) -> dict[str, Any]:
    return {
        "steps": [
            {"step": k, "step_no": v[0], "step_name": v[1], "allowed_actions": flow.allowed_actions(k)}
            for k, v in flow.STEPS.items()
        ],
        "transitions": [
            {"action": t.action, "from": t.source, "to": t.target, "who": t.who, "guard": t.guard}
            for t in flow.TABLE
        ],
    }


@router.get(
    "/ledger", summary="工作台账（JSON 或 xlsx）", responses={200: {"content": {XLSX_MEDIA_TYPE: {}}}}
)
async def ledger(
    session: DbSession,
    principal: CurrentPrincipal,
    filters: Annotated[Filters, Depends()],
    format: Annotated[Literal["json", "xlsx"], Query(description="json 或 xlsx")] = "json",
) -> Any:
    on = clock.today()
    rows = await ledger_rows(session, service.filter_clauses(principal, on=on, **filters.values))
    cal = await clock.calendar()
    units = {k: v.get("name", k) for k, v in (await unit_directory()).items()}
    if format == "xlsx":
        return Response(
            xlsx_bytes(rows, cal, on, units),
            media_type=XLSX_MEDIA_TYPE,
            headers={"Content-Disposition": f'attachment; filename="issues-ledger-{on}.xlsx"'},
        )
    return {"as_of": on, "total": len(rows), "items": json_rows(rows, cal, on, units)}


@router.get("/visits/pending", summary="待回访（已申请销号、尚未回访）的问题")
async def pending_visits(session: DbSession, principal: CurrentPrincipal) -> dict[str, Any]:
    on, cal = clock.today(), await clock.calendar()
    issues = await supervision.pending_visit_issues(
        session, cal=cal, on=on, clauses=[access.read_scope(principal)]
    )
    return {
        "as_of": on,
        "total": len(issues),
        "items": [
            {
                "issue_id": i.id,
                "project_code": i.project_code,
                "kind": i.kind,
                "responsible_unit_id": i.responsible_unit_id,
                "closure_requested_on": i.closure_requested_on,
                "redo_count": i.redo_count,
                "working_days_waiting": cal.working_days_between(i.closure_requested_on, on),
            }
            for i in issues
        ],
    }


@router.get("/reminders", summary="督办提醒（到期前、超期、待回访）")
async def reminders(
    session: DbSession,
    principal: CurrentPrincipal,
    unit: Annotated[str | None, Query(max_length=40, description="单位（重点办可查任意单位）")] = None,
    since: Annotated[date | None, Query(description="起始日期")] = None,
) -> dict[str, Any]:
    stmt = select(Reminder).where(access.reminder_scope(principal, unit))
    stmt = stmt.order_by(Reminder.on.desc(), Reminder.id.desc()).limit(500)
    if since:
        stmt = stmt.where(Reminder.on >= since)
    rows = (await session.scalars(stmt)).all()
    return {
        "items": [
            {"issue_id": r.issue_id, "unit_id": r.unit_id, "kind": r.kind, "on": r.on, "message": r.message}
            for r in rows
        ]
    }


@router.get("/{issue_id}", summary="问题详情：环节、五到位、工作日期限、超期状态、完整历史")
async def get_issue(
    issue_id: uuid.UUID, session: DbSession, principal: CurrentPrincipal, response: Response
) -> dict[str, Any]:
    out = await service.issue_detail(session, principal=principal, issue_id=issue_id)
    response.headers["ETag"] = f'"{out["version"]}"'
    return out


@router.post(
    "/{issue_id}/actions/{action}",
    summary="办理操作：analyse / decompose / assign / report_progress / request_close / "
    "record_visit / reopen",
)
async def act(
    issue_id: uuid.UUID,
    action: Annotated[str, Path(max_length=40)],
    session: DbSession,
    principal: CurrentPrincipal,
    response: Response,
    if_match: IfMatchOptional,
    body: Annotated[dict[str, Any] | None, Body(max_length=30, description="操作参数")] = None,
) -> dict[str, Any]:
    issue = await actions.run_action(
        session,
        principal=principal,
        issue_id=issue_id,
        action=action,
        body=body,
        if_match=if_match,
    )
    _etag(response, issue)
    return await service.issue_detail(session, principal=principal, issue_id=issue.id)
