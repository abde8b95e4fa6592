"""Assignment letters (交办函, policy R28): issue, report completion, judge the completion."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.scoring.access import require_read_assignment, unit_scope
from services.scoring.models import Assignment, pipeline
from services.scoring.schemas import AssignmentIn, AssignmentOut, CompletionIn, JudgementIn
from shared import contracts
from shared.clients.registry import get_project
from shared.clients.units import require_unit
from shared.clock import today
from shared.errors import Conflict, InvalidInput
from shared.identity import Principal


def snapshot(a: Assignment) -> dict[str, Any]:
    return AssignmentOut.model_validate(a).model_dump(mode="json")


async def create_assignment(session: AsyncSession, *, principal: Principal, data: AssignmentIn) -> Assignment:
    """The key office issues a letter to a township or department (R28)."""
    principal.require_office()
    unit = await require_unit(data.unit_id)
    if unit.get("kind") not in ("township", "department"):
        raise InvalidInput(
            f"单位 {data.unit_id} 不是乡镇或部门，不能作为责任单位",
            code="assignment.unit_not_assessable",
            fields=[{"field": "unit_id", "message": "应为乡镇或部门"}],
        )
    if data.project_id is not None:
        await get_project(data.project_id, principal=principal, field="project_id")
    issued_on = data.issued_on or today()
    if data.deadline < issued_on:
        raise InvalidInput(
            f"办结期限 {data.deadline} 早于交办日期 {issued_on}",
            code="assignment.deadline_before_letter",
            fields=[{"field": "deadline", "message": "不得早于交办日期"}],
        )
    a = Assignment(
        id=uuid.uuid4(),
        task=data.task,
        unit_id=data.unit_id,
        issued_on=issued_on,
        deadline=data.deadline,
        source=data.source,
        source_ref=data.source_ref,
        letter_no=data.letter_no,
        project_id=data.project_id,
        status="open",
        created_by=principal.subject,
        version=1,
    )
    session.add(a)
    await session.flush()
    after = snapshot(a)
    await pipeline.audit(session, principal, entity="assignment", entity_id=a.id, action="issue", after=after)
    await pipeline.emit(session, contracts.build("assignment.issued", after), key=str(a.id))
    return a


async def get_assignment(
    session: AsyncSession, *, principal: Principal, assignment_id: uuid.UUID, lock: bool = False
) -> Assignment:
    stmt = select(Assignment).where(Assignment.id == assignment_id)
    a = await session.scalar(stmt.with_for_update() if lock else stmt)
    return require_read_assignment(principal, a, assignment_id)


async def list_assignments(
    session: AsyncSession, *, principal: Principal, unit_id: str | None, status: str | None
) -> list[Assignment]:
    stmt = select(Assignment).where(unit_scope(Assignment.unit_id, principal, unit_id))
    stmt = stmt.order_by(Assignment.issued_on.desc(), Assignment.id)
    if status:
        stmt = stmt.where(Assignment.status == status)
    return list((await session.scalars(stmt.limit(1000))).all())


async def report_completion(
    session: AsyncSession, *, principal: Principal, assignment_id: uuid.UUID, data: CompletionIn
) -> Assignment:
    """The responsible unit reports the task done (again, after a badly-done judgement)."""
    a = await get_assignment(session, principal=principal, assignment_id=assignment_id, lock=True)
    principal.require_unit(a.unit_id)
    if a.status not in ("open", "badly_done"):
        raise Conflict(
            "该交办事项已报办结，等待或已完成评定", code="assignment.already_completed", status_now=a.status
        )
    on = data.completed_on or today()
    if on < a.issued_on or on > today():
        raise InvalidInput(
            "办结日期应在交办日期与今天之间",
            code="assignment.completed_on_invalid",
            fields=[{"field": "completed_on", "message": "日期不合理"}],
        )
    before = snapshot(a)
    a.status, a.completed_on, a.completion_note = "completed", on, data.note
    a.judged_on = a.judgement_reason = None
    a.version += 1
    await session.flush()
    after = snapshot(a)
    await pipeline.audit(
        session, principal, entity="assignment", entity_id=a.id, action="complete", before=before, after=after
    )
    await pipeline.emit(session, contracts.build("assignment.completed", after), key=str(a.id))
    return a


async def judge_completion(
    session: AsyncSession, *, principal: Principal, assignment_id: uuid.UUID, data: JudgementIn
) -> Assignment:
    """The key office accepts a completion or judges it badly done (R28: 办理不力 → 通报)."""
    principal.require_office()
    a = await get_assignment(session, principal=principal, assignment_id=assignment_id, lock=True)
    if a.status != "completed":
        raise Conflict("只有已报办结的交办事项才能评定", code="assignment.not_completed", status_now=a.status)
    if data.verdict == "badly_done" and not (data.reason and data.reason.strip()):
        raise InvalidInput(
            "评定为办理不力须说明理由",
            code="assignment.reason_required",
            fields=[{"field": "reason", "message": "必填"}],
        )
    before = snapshot(a)
    a.status = "accepted" if data.verdict == "accepted" else "badly_done"
    a.judged_on, a.judgement_reason = today(), data.reason
    a.version += 1
    await session.flush()
    after = snapshot(a)
    await pipeline.audit(
        session,
        principal,
        entity="assignment",
        entity_id=a.id,
        action="judge",
        before=before,
        after=after,
        reason=data.reason,
    )
    await pipeline.emit(session, contracts.build("assignment.judged", after), key=str(a.id))
    return a
