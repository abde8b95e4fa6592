"""The actions on a problem. Each goes through ``flow.transition`` (the one table), is
authorised, validated, audited, and emits its event in the same transaction."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.issues import access, clock, flow
from services.issues.models import Issue, SubTask, Visit, pipeline
from services.issues.schemas import (
    ACTION_BODIES,
    AnalyseIn,
    DecomposeIn,
    ProgressIn,
    ReopenIn,
    RequestCloseIn,
    VisitIn,
)
from services.issues.service import FIVE, event_payload, five_in_place, load_issue, snapshot
from shared import contracts
from shared.clients.units import require_unit
from shared.errors import Conflict, InvalidInput
from shared.identity import Principal
from shared.preconditions import IfMatch, require_version


def _parse(action: str, body: dict[str, Any] | None) -> BaseModel:
    try:
        return ACTION_BODIES[action].model_validate(body or {})
    except ValidationError as exc:
        raise RequestValidationError([dict(e, loc=("body", *e["loc"])) for e in exc.errors()]) from exc


def _past(field: str, value: Any) -> InvalidInput:
    return InvalidInput(
        f"期限 {value} 早于今天，不能作为办理期限",
        code="issue.deadline_in_past",
        fields=[{"field": field, "message": "期限不得早于今天"}],
    )


async def run_action(
    session: AsyncSession,
    *,
    principal: Principal,
    issue_id: uuid.UUID,
    action: str,
    body: dict[str, Any] | None,
    if_match: IfMatch | None = None,
) -> Issue:
    issue = await load_issue(session, principal, issue_id, for_update=True)
    require_version(if_match, issue.version, entity="issue", what="问题")
    t = flow.transition(issue.step, action)
    access.require_action(principal, issue, t.who)
    data = _parse(action, body)
    before = snapshot(issue)
    target, redo = flow.outcome(t, data)
    handler = HANDLERS[action]
    reason, event = await handler(session, principal, issue, data)
    if t.guard:
        GUARDS[t.guard](issue)
    issue.step = target
    if redo:
        issue.redo_count += 1
    if action == "assign":
        await _start_clock(issue)
    await session.flush()
    await pipeline.audit(
        session,
        principal,
        entity="issue",
        entity_id=issue.id,
        action=action,
        before=before,
        after=snapshot(issue),
        reason=reason,
    )
    if event:
        await pipeline.emit(session, contracts.build(event, event_payload(issue)), key=str(issue.id))
    return issue


# -- guards ------------------------------------------------------------------------------------
def five_in_place_guard(issue: Issue) -> None:
    """policy R23: nothing is assigned until the five are in place."""
    missing = five_in_place(issue)["missing"]
    fields = [{"field": f, "message": f"{FIVE[f]}未落实"} for f in missing]
    if issue.within_authority is False and not issue.assisting_unit_ids:
        missing.append("assisting_unit_ids")
        fields.append({"field": "assisting_unit_ids", "message": "研判为超出职权范围，须明确帮办单位"})
    if missing:
        names = "、".join(FIVE.get(f, "帮办单位") for f in missing)
        raise InvalidInput(
            f"五到位未落实，不能交办：缺少{names}",
            code="issue.not_ready_for_assignment",
            fields=fields,
            missing=missing,
        )


GUARDS = {"five_in_place": five_in_place_guard}


async def _start_clock(issue: Issue) -> None:
    cal = await clock.calendar()
    on = clock.today()
    if issue.fixed_deadline is not None and issue.fixed_deadline < on:
        raise _past("deadline", issue.fixed_deadline)
    issue.assigned_on = on
    issue.deadline = clock.deadline_for(
        cal, assigned_on=on, limit_days=issue.time_limit_days, fixed=issue.fixed_deadline
    )
    issue.deadline_provisional = bool(issue.deadline and cal.is_provisional(issue.deadline))
    issue.overdue, issue.overdue_since = False, None
    issue.close_supervision, issue.escalation_level = False, 0


# -- handlers: (session, principal, issue, data) -> (audit reason, event type or None) ---------
async def _analyse(session, principal, issue: Issue, data: AnalyseIn):
    issue.finding, issue.within_authority = data.finding, data.within_authority
    if data.responsible_unit_id:
        await require_unit(data.responsible_unit_id, field="responsible_unit_id")
        issue.responsible_unit_id = data.responsible_unit_id
    return data.finding, None


async def _decompose(session: AsyncSession, principal, issue: Issue, data: DecomposeIn):
    on = clock.today()
    if data.deadline is not None and data.time_limit_days is not None:
        raise InvalidInput(
            "办理时限与办结期限只能给出其一",
            code="issue.deadline_ambiguous",
            fields=[{"field": "deadline", "message": "与 time_limit_days 二选一"}],
        )
    if data.deadline is not None and data.deadline < on:
        raise _past("deadline", data.deadline)
    for name in ("responsible_unit_id",):
        value = getattr(data, name)
        if value is not None:
            await require_unit(value, field=name)
    for i, unit in enumerate(data.assisting_unit_ids or []):
        await require_unit(unit, field=f"assisting_unit_ids.{i}")
    for name in ("responsible_unit_id", "responsible_leader", "responsible_person", "solution"):
        value = getattr(data, name)
        if value is not None:
            setattr(issue, name, value)
    if data.time_limit_days is not None:
        issue.time_limit_days, issue.fixed_deadline = data.time_limit_days, None
    if data.deadline is not None:
        issue.fixed_deadline, issue.time_limit_days = data.deadline, None
    if data.assisting_unit_ids is not None:
        issue.assisting_unit_ids = [
            u for u in dict.fromkeys(data.assisting_unit_ids) if u != issue.responsible_unit_id
        ]
    if data.sub_tasks is not None:
        await _replace_sub_tasks(session, issue, data, on)
    return None, None


async def _replace_sub_tasks(session: AsyncSession, issue: Issue, data: DecomposeIn, on) -> None:
    units = {issue.responsible_unit_id, *(issue.assisting_unit_ids or [])}
    for i, task in enumerate(data.sub_tasks or []):
        if task.deadline < on:
            raise _past(f"sub_tasks.{i}.deadline", task.deadline)
        if task.unit_id not in units:
            raise InvalidInput(
                f"子任务承办单位 {task.unit_id} 既不是责任单位也不是帮办单位",
                code="issue.sub_task_unit_invalid",
                fields=[{"field": f"sub_tasks.{i}.unit_id", "message": "须为责任单位或帮办单位"}],
            )
    await session.execute(delete(SubTask).where(SubTask.issue_id == issue.id))
    for task in data.sub_tasks or []:
        session.add(
            SubTask(
                issue_id=issue.id,
                title=task.title,
                unit_id=task.unit_id,
                person=task.person,
                deadline=task.deadline,
                role="lead" if task.unit_id == issue.responsible_unit_id else "assist",
            )
        )


async def _assign(session, principal, issue: Issue, data):
    return data.note, "issue.assigned"


async def _report_progress(session: AsyncSession, principal: Principal, issue: Issue, data: ProgressIn):
    reason = data.note
    if data.sub_task_id is not None:
        task = await session.get(SubTask, data.sub_task_id)
        if task is None or task.issue_id != issue.id:
            raise InvalidInput(
                "子任务不属于该问题",
                code="issue.sub_task_unknown",
                fields=[{"field": "sub_task_id", "message": "无此子任务"}],
            )
        access.require_sub_task_report(principal, issue, task)
        task.note = data.note
        if data.sub_task_done and task.done_on is None:
            task.done_on = clock.today()
        reason = f"[子任务 {task.title}] {data.note}"
    return reason, None


async def _request_close(session: AsyncSession, principal, issue: Issue, data: RequestCloseIn):
    open_tasks = (
        await session.scalars(
            select(SubTask.title).where(SubTask.issue_id == issue.id, SubTask.done_on.is_(None))
        )
    ).all()
    if open_tasks:
        raise Conflict(
            "尚有子任务未完成，不能申请销号：" + "、".join(open_tasks),
            code="issue.sub_tasks_open",
            open_sub_tasks=list(open_tasks),
        )
    issue.closure_requested_on, issue.closure_summary = clock.today(), data.summary
    return data.summary, "issue.closure_requested"


async def _record_visit(session: AsyncSession, principal: Principal, issue: Issue, data: VisitIn):
    on = clock.today()
    if data.visited_on > on:
        raise InvalidInput(
            "回访日期不能晚于今天",
            code="issue.visit_date_invalid",
            fields=[{"field": "visited_on", "message": "不得晚于今天"}],
        )
    if issue.closure_requested_on and data.visited_on < issue.closure_requested_on:
        raise InvalidInput(
            "回访日期不能早于申请销号日期",
            code="issue.visit_date_invalid",
            fields=[{"field": "visited_on", "message": "不得早于申请销号日期"}],
        )
    rounds = await session.scalar(select(func.count()).where(Visit.issue_id == issue.id))
    session.add(
        Visit(
            issue_id=issue.id,
            round=(rounds or 0) + 1,
            visitor=data.visitor,
            channel=data.channel,
            visited_on=data.visited_on,
            satisfied=data.satisfied,
            words=data.words,
            recorded_by=principal.subject,
        )
    )
    issue.satisfied = data.satisfied
    verdict = "满意" if data.satisfied else "不满意"
    if data.satisfied:
        issue.closed_on = on
        return f"回访{verdict}：{data.words}", "issue.closed"
    issue.closure_requested_on = None
    return f"回访{verdict}，重新办理：{data.words}", "issue.reopened"


async def _reopen(session, principal, issue: Issue, data: ReopenIn):
    issue.closed_on, issue.satisfied, issue.closure_requested_on = None, None, None
    return data.reason, "issue.reopened"


HANDLERS = {
    "analyse": _analyse,
    "decompose": _decompose,
    "assign": _assign,
    "report_progress": _report_progress,
    "request_close": _request_close,
    "record_visit": _record_visit,
    "reopen": _reopen,
}
