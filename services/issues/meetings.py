"""Periodic consultation meetings (定期会诊, policy R26): agenda items and decisions written
back onto each problem's record."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.issues.models import AgendaItem, Issue, Meeting, pipeline
from services.issues.schemas import DecisionIn, MeetingIn
from services.issues.service import load_issue
from shared import clock
from shared.clients.units import require_unit
from shared.errors import Conflict, InvalidInput, KPPError, NotFound
from shared.identity import Principal


async def _meeting(session: AsyncSession, meeting_id: uuid.UUID) -> Meeting:
    meeting = await session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFound(f"会议 {meeting_id} 不存在", code="meeting.not_found")
    return meeting


async def _add_items(
    session: AsyncSession, principal: Principal, meeting: Meeting, issue_ids: list[uuid.UUID]
) -> None:
    position = (
        await session.scalar(
            select(func.coalesce(func.max(AgendaItem.position), 0)).where(AgendaItem.meeting_id == meeting.id)
        )
        or 0
    )
    present = set(
        (await session.scalars(select(AgendaItem.issue_id).where(AgendaItem.meeting_id == meeting.id))).all()
    )
    for i, issue_id in enumerate(dict.fromkeys(issue_ids)):
        if issue_id in present:
            continue
        issue = await session.get(Issue, issue_id)
        if issue is None:
            raise InvalidInput(
                f"问题 {issue_id} 不存在",
                code="meeting.issue_unknown",
                fields=[{"field": f"issue_ids.{i}", "message": "无此问题"}],
            )
        if issue.step == "closed":
            raise Conflict(
                f"问题 {issue_id} 已销号，不能列入会诊议程",
                code="meeting.issue_closed",
                issue_id=str(issue_id),
            )
        position += 1
        session.add(AgendaItem(meeting_id=meeting.id, issue_id=issue_id, position=position))
        await pipeline.audit(
            session,
            principal,
            entity="issue",
            entity_id=issue_id,
            action="put_on_agenda",
            after={"meeting_id": meeting.id, "title": meeting.title, "held_on": meeting.held_on},
            reason=f"列入会诊议程：{meeting.title}",
        )


async def create_meeting(session: AsyncSession, *, principal: Principal, data: MeetingIn) -> Meeting:
    principal.require_office()
    for i, unit in enumerate(data.attendee_unit_ids):
        await require_unit(unit, field=f"attendee_unit_ids.{i}")
    meeting = Meeting(
        title=data.title,
        held_on=data.held_on,
        chair=data.chair,
        attendee_unit_ids=list(dict.fromkeys(data.attendee_unit_ids)),
        created_by=principal.subject,
    )
    session.add(meeting)
    await session.flush()
    await pipeline.audit(
        session,
        principal,
        entity="meeting",
        entity_id=meeting.id,
        action="create",
        after=data.model_dump(mode="json"),
    )
    await _add_items(session, principal, meeting, data.issue_ids)
    await session.flush()
    return meeting


async def add_agenda(
    session: AsyncSession, *, principal: Principal, meeting_id: uuid.UUID, issue_ids: list[uuid.UUID]
) -> Meeting:
    principal.require_office()
    meeting = await _meeting(session, meeting_id)
    await _add_items(session, principal, meeting, issue_ids)
    await session.flush()
    return meeting


async def record_decision(
    session: AsyncSession, *, principal: Principal, meeting_id: uuid.UUID, data: DecisionIn
) -> Meeting:
    """The decision is kept on the agenda item and written into the problem's history."""
    principal.require_office()
    meeting = await _meeting(session, meeting_id)
    item = await session.scalar(
        select(AgendaItem)
        .where(AgendaItem.meeting_id == meeting.id, AgendaItem.issue_id == data.issue_id)
        .with_for_update()
    )
    if item is None:
        raise InvalidInput(
            "该问题不在本次会议议程中",
            code="meeting.not_on_agenda",
            fields=[{"field": "issue_id", "message": "不在议程中"}],
        )
    before = {"decision": item.decision}
    item.decision, item.decided_at = data.decision, clock.now()
    await pipeline.audit(
        session,
        principal,
        entity="issue",
        entity_id=data.issue_id,
        action="meeting_decision",
        before=before,
        after={
            "meeting_id": meeting.id,
            "title": meeting.title,
            "held_on": meeting.held_on,
            "decision": data.decision,
        },
        reason=data.decision,
    )
    await pipeline.audit(
        session,
        principal,
        entity="meeting",
        entity_id=meeting.id,
        action="decision",
        before=before | {"issue_id": str(data.issue_id)},
        after={"issue_id": str(data.issue_id), "decision": data.decision},
    )
    await session.flush()
    return meeting


async def meeting_out(
    session: AsyncSession, *, principal: Principal, meeting_id: uuid.UUID
) -> dict[str, Any]:
    meeting = await _meeting(session, meeting_id)
    rows = (
        await session.execute(
            select(AgendaItem, Issue)
            .join(Issue, Issue.id == AgendaItem.issue_id)
            .where(AgendaItem.meeting_id == meeting.id)
            .order_by(AgendaItem.position)
        )
    ).all()
    items = []
    for item, issue in rows:
        try:
            await load_issue(session, principal, issue.id)
        except KPPError:  # an item the caller may not see is listed without its content
            items.append({"position": item.position, "issue_id": None, "hidden": True})
            continue
        items.append(
            {
                "position": item.position,
                "issue_id": issue.id,
                "project_code": issue.project_code,
                "kind": issue.kind,
                "description": issue.description,
                "step": issue.step,
                "decision": item.decision,
                "decided_at": item.decided_at,
            }
        )
    return {
        "id": meeting.id,
        "title": meeting.title,
        "held_on": meeting.held_on,
        "chair": meeting.chair,
        "attendee_unit_ids": meeting.attendee_unit_ids,
        "created_by": meeting.created_by,
        "agenda": items,
    }


async def list_meetings(session: AsyncSession, *, limit: int = 50) -> list[dict[str, Any]]:
    rows = (await session.scalars(select(Meeting).order_by(Meeting.held_on.desc()).limit(limit))).all()
    return [{"id": m.id, "title": m.title, "held_on": m.held_on, "chair": m.chair} for m in rows]
