"""Problems: report (discover), read, list. Flushes, never commits; who sees what is in access.py."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.issues import access, clock, flow
from services.issues.models import AgendaItem, Issue, Meeting, SubTask, Visit, pipeline
from services.issues.schemas import IssueIn
from shared.calendar import WorkingCalendar
from shared.clients.registry import get_project
from shared.contracts.issues import IssueCreatedV1
from shared.errors import InvalidInput, NotFound
from shared.identity import Principal, Role


async def load_issue(
    session: AsyncSession, principal: Principal, issue_id: uuid.UUID, *, for_update: bool = False
) -> Issue:
    stmt = select(Issue).where(Issue.id == issue_id)
    if for_update:
        stmt = stmt.with_for_update()
    issue = await session.scalar(stmt)
    if issue is None:
        raise NotFound(f"问题 {issue_id} 不存在", code="issue.not_found")
    access.require_read(principal, issue)
    return issue


# -- shapes -----------------------------------------------------------------------------------
FIVE = {
    "responsible_unit_id": "责任单位",
    "responsible_leader": "责任领导",
    "responsible_person": "责任人",
    "solution": "解决措施",
    "time_limit": "办理时限（工作日）",
}


def five_in_place(issue: Issue) -> dict[str, Any]:
    values = {
        "responsible_unit_id": issue.responsible_unit_id,
        "responsible_leader": issue.responsible_leader,
        "responsible_person": issue.responsible_person,
        "solution": issue.solution,
        "time_limit": issue.time_limit_days or (issue.fixed_deadline and "fixed"),
    }
    missing = [k for k, v in values.items() if not v]
    return {
        "responsible_unit_id": issue.responsible_unit_id,
        "responsible_leader": issue.responsible_leader,
        "responsible_person": issue.responsible_person,
        "solution": issue.solution,
        "time_limit_days": issue.time_limit_days,
        "fixed_deadline": issue.fixed_deadline,
        "complete": not missing,
        "missing": missing,
    }


def is_overdue(issue: Issue, on: date) -> bool:
    return issue.step == "assigned" and issue.deadline is not None and issue.deadline < on


def snapshot(issue: Issue) -> dict[str, Any]:
    """What the audit log records before/after a change."""
    return {
        "step": issue.step,
        "kind": issue.kind,
        "source": issue.source,
        "finding": issue.finding,
        "within_authority": issue.within_authority,
        "responsible_unit_id": issue.responsible_unit_id,
        "responsible_leader": issue.responsible_leader,
        "responsible_person": issue.responsible_person,
        "solution": issue.solution,
        "time_limit_days": issue.time_limit_days,
        "fixed_deadline": issue.fixed_deadline,
        "assisting_unit_ids": list(issue.assisting_unit_ids or []),
        "deadline": issue.deadline,
        "overdue": issue.overdue,
        "close_supervision": issue.close_supervision,
        "redo_count": issue.redo_count,
        "satisfied": issue.satisfied,
    }


def event_payload(issue: Issue, on: date | None = None) -> dict[str, Any]:
    """contracts.md: the issue.* payload."""
    on = on or clock.today()
    return {
        "issue_id": issue.id,
        "project_id": issue.project_id,
        "project_code": issue.project_code,
        "unit_id": issue.responsible_unit_id,
        "kind": issue.kind,
        "source": issue.source,
        "step": issue.step,
        "deadline": issue.deadline,
        "overdue": is_overdue(issue, on) or (issue.overdue and issue.step == "assigned"),
        "close_supervision": issue.close_supervision,
        "redo_count": issue.redo_count,
        "satisfied": issue.satisfied,
        "occurred_at": clock.now(),
    }


def issue_row(issue: Issue, cal: WorkingCalendar, on: date) -> dict[str, Any]:
    left = clock.days_left(cal, on, issue.deadline) if issue.step != "closed" else None
    return {
        "id": issue.id,
        "project_id": issue.project_id,
        "project_code": issue.project_code,
        "project_name": issue.project_name,
        "project_unit_id": issue.project_unit_id,
        "kind": issue.kind,
        "description": issue.description,
        "source": issue.source,
        "source_ref": issue.source_ref,
        "reporter": issue.reporter,
        "reporter_name": issue.reporter_name,
        "attachments": issue.attachments,
        **flow.step_info(issue.step),
        "finding": issue.finding,
        "within_authority": issue.within_authority,
        "five_in_place": five_in_place(issue),
        "lead_unit_id": issue.responsible_unit_id,
        "assisting_unit_ids": list(issue.assisting_unit_ids or []),
        "assigned_on": issue.assigned_on,
        "deadline": issue.deadline,
        "deadline_provisional": issue.deadline_provisional,
        "working_days_left": left,
        "overdue": is_overdue(issue, on),
        "overdue_since": issue.overdue_since,
        "close_supervision": issue.close_supervision,
        "escalation_level": issue.escalation_level,
        "closure_requested_on": issue.closure_requested_on,
        "closure_summary": issue.closure_summary,
        "redo_count": issue.redo_count,
        "satisfied": issue.satisfied,
        "closed_on": issue.closed_on,
        "version": issue.version,
        "created_at": issue.created_at,
        "updated_at": issue.updated_at,
    }


# -- report (step 1, discover) ------------------------------------------------------------------
async def create_issue(session: AsyncSession, *, principal: Principal, data: IssueIn) -> Issue:
    access.require_reporter(principal)
    if principal.role == Role.enterprise and data.source != "enterprise_report":
        raise InvalidInput(
            "企业反映的问题来源只能是 enterprise_report（企业反映）",
            code="issue.source_invalid",
            fields=[{"field": "source", "message": "企业只能以企业反映为来源"}],
        )
    if data.source == "approval_overdue" and principal.role != Role.system:
        raise InvalidInput(
            "审批超期督办事项由审批服务的超期事件自动生成，不能手工创建",
            code="issue.source_invalid",
            fields=[{"field": "source", "message": "来源不可手工选择"}],
        )
    project = await get_project(data.project_id, principal=principal, field="project_id")
    credit = project.carrying_unit_credit_code
    access.require_report_on(principal, credit)
    issue = Issue(
        project_id=data.project_id,
        project_code=project.code,
        project_name=project.name,
        project_unit_id=project.unit_id,
        enterprise_code=credit,
        kind=data.kind,
        description=data.description,
        source=data.source,
        reporter=principal.subject,
        reporter_name=principal.name or "",
        reporter_role=str(principal.role),
        reporter_unit_id=principal.unit_id,
        attachments=[a.model_dump() for a in data.attachments],
        step="discovered",
        assisting_unit_ids=[],
        redo_count=0,
        overdue=False,
        close_supervision=False,
        escalation_level=0,
        deadline_provisional=False,
    )
    session.add(issue)
    await session.flush()
    await pipeline.audit(
        session,
        principal,
        entity="issue",
        entity_id=issue.id,
        action="report",
        after=snapshot(issue)
        | {
            "project_id": str(issue.project_id),
            "description": issue.description,
            "attachments": issue.attachments,
        },
    )
    await pipeline.emit(session, IssueCreatedV1.model_validate(event_payload(issue)), key=str(issue.id))
    return issue


async def issue_detail(session: AsyncSession, *, principal: Principal, issue_id: uuid.UUID) -> dict[str, Any]:
    issue = await load_issue(session, principal, issue_id)
    cal = await clock.calendar()
    out = issue_row(issue, cal, clock.today())
    tasks = (
        await session.scalars(
            select(SubTask).where(SubTask.issue_id == issue.id).order_by(SubTask.deadline, SubTask.title)
        )
    ).all()
    out["sub_tasks"] = [
        {
            "id": t.id,
            "title": t.title,
            "unit_id": t.unit_id,
            "role": t.role,
            "person": t.person,
            "deadline": t.deadline,
            "done_on": t.done_on,
            "note": t.note,
        }
        for t in tasks
    ]
    visits = (
        await session.scalars(select(Visit).where(Visit.issue_id == issue.id).order_by(Visit.round))
    ).all()
    out["visits"] = [
        {
            "round": v.round,
            "visitor": v.visitor,
            "channel": v.channel,
            "visited_on": v.visited_on,
            "satisfied": v.satisfied,
            "words": v.words,
            "recorded_by": v.recorded_by,
        }
        for v in visits
    ]
    rows = await session.execute(
        select(Meeting.id, Meeting.title, Meeting.held_on, AgendaItem.decision, AgendaItem.decided_at)
        .join(AgendaItem, AgendaItem.meeting_id == Meeting.id)
        .where(AgendaItem.issue_id == issue.id)
        .order_by(Meeting.held_on)
    )
    out["meetings"] = [
        {
            "meeting_id": r.id,
            "title": r.title,
            "held_on": r.held_on,
            "decision": r.decision,
            "decided_at": r.decided_at,
        }
        for r in rows
    ]
    out["history"] = await pipeline.history(session, "issue", issue.id)
    return out


def filter_clauses(
    principal: Principal,
    *,
    on: date,
    project_id: uuid.UUID | None = None,
    unit: str | None = None,
    step: str | None = None,
    overdue: bool | None = None,
    kind: str | None = None,
    source: str | None = None,
) -> list[ColumnElement[bool]]:
    clauses = [access.read_scope(principal)]
    if project_id is not None:
        clauses.append(Issue.project_id == project_id)
    if unit:
        clauses.append(or_(Issue.responsible_unit_id == unit, Issue.project_unit_id == unit))
    if step:
        clauses.append(Issue.step == step)
    if kind:
        clauses.append(Issue.kind == kind)
    if source:
        clauses.append(Issue.source == source)
    if overdue is True:
        clauses.append(and_(Issue.step == "assigned", Issue.deadline < on))
    elif overdue is False:
        clauses.append(or_(Issue.step != "assigned", Issue.deadline.is_(None), Issue.deadline >= on))
    return clauses


async def list_issues(
    session: AsyncSession, *, principal: Principal, page: int, page_size: int, **filters: Any
) -> dict[str, Any]:
    on = clock.today()
    clauses = filter_clauses(principal, on=on, **filters)
    total = await session.scalar(select(func.count()).select_from(Issue).where(*clauses))
    order = (Issue.deadline, Issue.id) if filters.get("overdue") else (Issue.created_at.desc(), Issue.id)
    # the page's ids first (an index-only scan for the overdue list), then their rows
    page_ids = (
        select(Issue.id)
        .where(*clauses)
        .order_by(*order)
        .offset((page - 1) * page_size)
        .limit(page_size)
        .subquery()
    )
    rows = (
        await session.scalars(select(Issue).join(page_ids, page_ids.c.id == Issue.id).order_by(*order))
    ).all()
    cal = await clock.calendar()
    return {
        "total": total,
        "page": page,
        "page_size": page_size,
        "items": [issue_row(i, cal, on) for i in rows],
    }
